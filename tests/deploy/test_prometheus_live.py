"""A real Prometheus scrapes a real poller and worker; every shipped query is evaluated.

Loopback feed → ``newsmon poll`` process → Tansu → ``newsmon worker`` process, with a
poison message and a broken feed so the error paths have series too. Prometheus (Debian's
package) scrapes both /metrics endpoints every second and loads the shipped alert rules.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
import yaml

from monitor.settings import Settings
from tests.conftest import LOOPBACK_ALLOWLIST
from tests.deploy.queries import RULE_FILES, expand_macros, panel_queries, rule_queries
from tests.support.feedbuild import rss_from_files
from tests.support.kafka import read_topic
from tests.support.paths import CONFIG, SEEDS
from tests.support.prometheus import PrometheusServer, free_port, tool, wait_http_ok
from tests.support.worker import WorkerProcess

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def pipeline(broker, tmp_path_factory):
    """Worker and poller processes on free metrics ports, a real Prometheus scraping them;
    shared by this module's tests (starting it takes most of their time)."""
    tool("prometheus")  # fail with the install hint before starting anything
    from kafka import KafkaProducer
    from pytest_httpserver import HTTPServer

    from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics

    tmp_path = tmp_path_factory.mktemp("observability")
    feed_server = HTTPServer(host="127.0.0.1", port=0)
    feed_server.start()
    seeds = sorted(SEEDS.glob("*.txt"))
    feed_server.expect_request("/seeds.xml").respond_with_data(rss_from_files(seeds), content_type="application/rss+xml")
    feed_server.expect_request("/gone.xml").respond_with_data("gone", status=404)
    config_dir = tmp_path / "config"
    shutil.copytree(CONFIG, config_dir)
    feeds = [
        {"name": "seeds", "url": feed_server.url_for("/seeds.xml"), "source": "Seed Wire", "interval_s": 2},
        {"name": "broken", "url": feed_server.url_for("/gone.xml"), "source": "Nowhere", "interval_s": 2},
    ]
    (config_dir / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))
    unique = f"obs{uuid.uuid4().hex[:8]}"
    settings = Settings(
        config_dir=config_dir,
        data_dir=tmp_path / "data",
        broker_url=broker.url,
        embedded_broker=True,
        # The poller exports the embedded broker's memory and rotations, as under newsmon run.
        embedded_broker_pid=broker.pid,
        topic_prefix=unique,
        app_id=unique,
        nlp_processes=1,
        metrics_host="127.0.0.1",
        poller_metrics_port=free_port(),
        worker_metrics_port=free_port(),
        fetch_allowlist=LOOPBACK_ALLOWLIST,
    )
    ensure_topics(settings)
    names = KafkaTopicNames.for_settings(settings)
    env = {**os.environ, **settings.as_env()}

    worker = WorkerProcess(settings.as_env(), tmp_path / "worker.log")
    prometheus = PrometheusServer(
        tmp_path / "prometheus",
        {
            "newsmon-poller": [f"127.0.0.1:{settings.poller_metrics_port}"],
            "newsmon-worker": [f"127.0.0.1:{settings.worker_metrics_port}"],
        },
        RULE_FILES,
    )
    poller = None
    try:
        worker.start()
        prometheus.start()
        # The worker's counters are scraped at 0 before any article arrives, so rate() and
        # increase() count the first articles.
        prometheus.wait_for('up{job="newsmon-worker"}', lambda v: v == 1)
        poller = subprocess.Popen(
            [sys.executable, "-m", "monitor", "poll"],
            env=env,
            stdout=(tmp_path / "poller.log").open("wb"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        wait_http_ok(f"http://127.0.0.1:{settings.poller_metrics_port}/readyz", process=poller)
        producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers)
        producer.send(names.articles, key=b"poison", value=b"\x00not an article")
        producer.flush()
        producer.close()
        yield prometheus, settings, names
    finally:
        if poller is not None:
            poller.terminate()
            try:
                poller.wait(20)
            except subprocess.TimeoutExpired:
                poller.kill()
                poller.wait()
        worker.stop()
        prometheus.stop()
        feed_server.clear()
        feed_server.stop()


def test_every_shipped_query_parses_and_every_panel_has_data_from_a_real_scrape(pipeline):
    """All dashboard targets return at least one series and all rule expressions evaluate,
    on metrics Prometheus scraped from the running poller and worker."""
    prometheus, settings, names = pipeline
    started = time.monotonic()
    alerts = read_topic(settings.bootstrap_servers[0], names.alerts, until=lambda r: len(r) >= 1, timeout_s=120)
    assert alerts, "the seed feed raised no alert"
    # Wait until Prometheus has scraped the end state of the run.
    prometheus.wait_for('sum(newsmon_articles_total{outcome="decided"})', lambda v: v >= 5, timeout_s=90)
    prometheus.wait_for('sum(newsmon_deliveries_total{outcome="delivered"})', lambda v: v >= 1)
    prometheus.wait_for('sum(newsmon_dead_letters_total{stage="tag", reason="undecodable"})', lambda v: v == 1)
    prometheus.wait_for('count(newsmon_feed_polls_total{feed="seeds"})', lambda v: v >= 1)
    prometheus.wait_for("sum(newsmon_relevant_articles_by_pair_total)", lambda v: v >= 1)
    prometheus.wait_for("count(newsmon_faust_total_events_per_stream_total)", lambda v: v >= 1)
    prometheus.wait_for("count(newsmon_consumer_lag)", lambda v: v >= 1, timeout_s=30)  # measured every 10 s

    panels = panel_queries()
    assert len(panels) >= 20
    empty, broken = [], []
    for query in panels:
        body = prometheus.query(expand_macros(query.expr))
        if body["status"] != "success":
            broken.append(f"{query.where}: {body.get('error')}")
        elif not body["data"]["result"]:
            empty.append(f"{query.where}: {query.expr}")
    rules = rule_queries()
    for query in rules:
        body = prometheus.query(query.expr)
        if body["status"] != "success":
            broken.append(f"{query.where}: {body.get('error')}")
    assert not broken, "queries Prometheus rejects:\n" + "\n".join(broken)
    assert not empty, "panel queries with no series:\n" + "\n".join(empty)
    print(f"\n{len(panels)} panel queries and {len(rules)} rule expressions checked in {time.monotonic() - started:.1f} s")


def test_scraped_values_tell_what_happened_and_the_rules_fire_on_it(pipeline):
    """The scraped counters match the run (5 articles, 1 poison, a 404 feed), the consumer
    lag drains to 0, every loaded rule evaluates healthily and the dead-letter alert fires."""
    prometheus, settings, names = pipeline
    read_topic(settings.bootstrap_servers[0], names.decisions, until=lambda r: len(r) >= 5, timeout_s=120)
    decided = prometheus.wait_for('sum(newsmon_articles_total{outcome="decided"})', lambda v: v >= 5, timeout_s=60)
    assert decided == 5
    assert prometheus.value('sum(newsmon_articles_total{outcome="polled"})') == 5
    assert prometheus.value('sum(newsmon_articles_total{outcome="failed"})') == 1
    assert prometheus.wait_for('sum(newsmon_feed_polls_total{feed="broken", outcome="http_error"})', lambda v: v >= 1) >= 1
    assert prometheus.value('sum(newsmon_feed_polls_total{feed="broken", outcome="ok"})') is None
    # Lag is measured from broker offsets every 10 s: it reaches 0 once all is processed,
    # for every partition of the three source topics.
    prometheus.wait_for("sum(newsmon_consumer_lag)", lambda v: v == 0, timeout_s=60)
    assert prometheus.value("count(newsmon_consumer_lag)") == 3 * settings.partitions
    assert prometheus.value('max(newsmon_feed_seconds_since_success{feed="seeds"})') < 30
    assert prometheus.value("sum(newsmon_faust_messages_received_total)") >= 6

    deadline = time.monotonic() + 30
    while True:
        groups = prometheus.api("rules")["data"]["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        if all(rule.get("lastEvaluation", "").startswith("20") and rule["health"] != "unknown" for rule in rules):
            break
        assert time.monotonic() < deadline, f"rules not evaluated: {rules}"
        time.sleep(0.5)
    assert len(rules) == len(rule_queries())
    unhealthy = [(rule["name"], rule.get("lastError")) for rule in rules if rule["health"] != "ok"]
    assert not unhealthy, unhealthy

    firing = {}
    deadline = time.monotonic() + 30
    while "NewsmonDeadLettersGrowing" not in firing and time.monotonic() < deadline:
        firing = {alert["labels"]["alertname"]: alert for alert in prometheus.api("alerts")["data"]["alerts"]}
        time.sleep(0.5)
    dead = firing.get("NewsmonDeadLettersGrowing")
    assert dead and dead["state"] == "firing", firing
    assert (dead["labels"]["stage"], dead["labels"]["reason"]) == ("tag", "undecodable")
    for quiet in ("NewsmonDeliveryFailures", "NewsmonNoWorker", "NewsmonWorkerDown", "NewsmonConsumerLagGrowing"):
        assert quiet not in firing, f"{quiet} fired on a healthy run: {firing[quiet]}"
