"""Consumer lag: the pure rule, and a real worker reporting it from broker offsets."""

from __future__ import annotations

import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agents.vitals import partition_lag
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics, make_producer
from tests.support.kafka import read_topic
from tests.support.paths import SEEDS
from tests.support.prometheus import free_port

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared

pytestmark = pytest.mark.timeout(240)


@pytest.mark.parametrize(
    ("log_end", "committed", "log_start", "lag"),
    [
        (100, 60, None, 40),  # committed offset is the next to read: 60..99 wait
        (100, 100, None, 0),
        (100, None, 0, 100),  # nothing committed yet: the whole log waits
        (100, None, 30, 70),  # ...from where retention left it
        (None, 5, 0, None),  # log end unknown: no figure rather than a wrong one
        (10, 12, None, 0),  # a stale log end never makes lag negative
    ],
)
def test_partition_lag(log_end, committed, log_start, lag):
    assert partition_lag(log_end, committed, log_start) == lag


def _lag_by_topic(url: str) -> dict[str, float]:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    lag: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "newsmon_consumer_lag":
            for sample in family.samples:
                lag[sample.labels["kafka_topic"]] = lag.get(sample.labels["kafka_topic"], 0) + sample.value
    return lag


def test_worker_reports_the_backlog_as_lag_and_zero_once_it_caught_up(broker_settings, start_worker):
    """30 articles produced at once show as lag on the articles topic; it drains to 0."""
    from monitor.offline.readers import read_articles

    settings = broker_settings.with_overrides(worker_metrics_port=free_port(), metrics_host="127.0.0.1", lag_interval_s=0.3)
    ensure_topics(settings)
    names = KafkaTopicNames.for_settings(settings)
    start_worker(settings)
    url = f"http://127.0.0.1:{settings.worker_metrics_port}/metrics"

    seeds = list(read_articles(sorted(SEEDS.glob("*.txt"))))
    producer = make_producer(settings)
    count = 30
    for i in range(count):
        article = seeds[i % len(seeds)]
        article = article.derive(id=f"{article.id}-{i}")
        producer.send(names.articles, key=article.id.encode(), value=article.dumps(serializer="json"))
    producer.flush()

    peak, deadline, lag = 0.0, time.monotonic() + 150, {}
    while time.monotonic() < deadline:
        lag = _lag_by_topic(url)
        peak = max(peak, lag.get(names.articles, 0))
        if peak and lag and all(value == 0 for value in lag.values()):
            break
        time.sleep(0.2)
    assert peak > 0, "the backlog never showed as lag"
    assert set(lag) == {names.articles, names.tagged, names.alerts}
    assert all(value == 0 for value in lag.values()), f"lag did not drain: {lag}"
    decisions = read_topic(settings.bootstrap_servers[0], names.decisions, until=lambda r: len(r) >= count, timeout_s=30)
    assert len(decisions) == count
    print(f"\npeak lag on {names.articles}: {peak:.0f} of {count}")
