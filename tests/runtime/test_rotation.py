"""``newsmon run`` keeps its embedded broker under a memory budget by rotation, losing nothing
(monitor/runtime/rotation.py): the decision and the offset arithmetic on their own, then a
real run forced to rotate several times while articles and alerts flow."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
import yaml
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from bench.developments import development_articles
from monitor.console.store import ReadModel
from monitor.runtime.broker import EmbeddedBroker
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics
from monitor.runtime.metrics import broker_memory_bytes
from monitor.runtime.rotation import (
    START_FRACTION,
    Offsets,
    Reader,
    budget_of,
    carry_over,
    describe_budget,
    due,
    first_unread,
    unread,
)
from monitor.settings import MIB, Settings
from tests.support.daemon import Daemon, busy_feed_env
from tests.support.kafka import read_topic
from tests.support.receivers import WebhookReceiver
from tests.support.streamfeeds import StreamFeeds, background
from tests.support.waiting import SECRET, wait_for

#: The smallest budget allowed: two rotations within about 2,000 articles.
BUDGET = 32 * MIB
#: What the broker may hold above its budget: a rotation starts at 90 % of it, and the
#: articles on their way through the pipeline while it drains land on top.
MARGIN = 8 * MIB


def test_a_rotation_is_due_near_the_budget_and_never_twice_in_a_row():
    budget = 100 * MIB
    assert not due(int(START_FRACTION * budget) - 1, budget, now=1000.0, last=0.0)
    assert due(int(START_FRACTION * budget), budget, now=1000.0, last=0.0)
    assert not due(int(0.95 * budget), budget, now=1000.0, last=990.0), "too soon after the last one"
    assert due(budget, budget, now=1000.0, last=990.0, floor=budget // 2), "the budget itself reached: at once"
    assert not due(2 * budget, budget, now=1000.0, last=990.0, floor=budget), "a fresh broker that fills it: no loop"
    assert due(2 * budget, budget, now=1000.0, last=900.0)
    assert not due(2 * budget, 0, now=1000.0, last=0.0), "a budget of 0 never rotates"
    assert not due(None, budget, now=1000.0, last=0.0), "a broker whose memory cannot be read"


def test_the_copy_starts_where_the_slowest_reader_of_a_topic_stopped():
    worker = Reader("newsmon", ("articles", "alerts"))
    console = Reader("newsmon-console", ("decisions", "alerts"))
    a0, al0, d0, other = (TopicPartition(t, 0) for t in ("articles", "alerts", "decisions", "elsewhere"))
    starts = {a0: 0, al0: 0, d0: 5, other: 0}
    committed = {"newsmon": {a0: 40, al0: 12}, "newsmon-console": {al0: 9}}
    first = first_unread([worker, console], committed, starts)
    # alerts: the console is behind; decisions: nothing committed, so from the start; no reader, no copy.
    assert first == {a0: 40, al0: 9, d0: 5}
    assert unread(first, {a0: 40, al0: 12, d0: 8}) == 0 + 3 + 3


def test_partition_ends_are_the_true_ends_and_follow_new_messages(broker):
    """Tansu lists a partition's end as its last batch's start + 1; Offsets reads the true
    end, and a second reading sees what arrived after the first."""
    settings = Settings(broker_url=broker.url, embedded_broker=True, topic_prefix=f"ends{time.time_ns()}")
    names = KafkaTopicNames.for_settings(settings)
    ensure_topics(settings)
    producer = KafkaProducer(bootstrap_servers=broker.url, linger_ms=50)

    def send(count: int) -> None:
        for _ in range(count):
            producer.send(names.articles, value=b"article", partition=0)
        producer.flush()

    tp = TopicPartition(names.articles, 0)
    offsets = Offsets(settings, [names.articles])
    try:
        send(25)
        assert offsets.consumer.end_offsets([tp])[tp] < 25, "premise: Tansu lists the last batch's start + 1"
        assert offsets.ends()[tp] == 25
        send(10)
        assert offsets.ends()[tp] == 35
        assert offsets.ends()[TopicPartition(names.articles, 1)] == 0
    finally:
        offsets.close()
        producer.close()


def test_the_carry_over_copies_what_no_reader_finished_and_every_dead_letter(broker, tmp_path):
    """Two real brokers: the worker's group stopped at offset 30 of an articles partition (of
    50, sent in batches, so Tansu's listed end is short of it), the console's at 4 of a
    decisions partition; the copy is exactly the unread tail, with keys, partitions and
    timestamps, plus every dead letter; a topic everyone finished copies nothing."""
    old = Settings(
        broker_url=broker.url, embedded_broker=True, topic_prefix=f"carry{time.time_ns()}", app_id="carry", console_port=1
    )
    names = KafkaTopicNames.for_settings(old)
    ensure_topics(old)
    producer = KafkaProducer(bootstrap_servers=broker.url, linger_ms=50)
    for n in range(50):
        producer.send(names.articles, key=f"a{n}".encode(), value=b"article", partition=1, timestamp_ms=1_700_000_000_000 + n)
    for n in range(6):
        producer.send(names.decisions, key=f"d{n}".encode(), value=b"decision", partition=2)
        producer.send(names.tagged, key=f"t{n}".encode(), value=b"tagged", partition=0)
    producer.send(names.deadletter, key=b"poison", value=b"letter", partition=3)
    producer.flush()
    producer.close()
    for group, offsets in (
        ("carry", {TopicPartition(names.articles, 1): 30, TopicPartition(names.tagged, 0): 6}),
        ("carry-console", {TopicPartition(names.decisions, 2): 4}),
    ):
        committer = KafkaConsumer(bootstrap_servers=broker.url, group_id=group, enable_auto_commit=False)
        committer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})
        committer.close()
    with EmbeddedBroker(log_path=tmp_path / "new.log") as fresh:
        new = old.with_overrides(broker_url=fresh.url)
        ensure_topics(new)
        assert carry_over(old, new) == 20 + 2 + 1
        articles = read_topic(fresh.url, names.articles, until=lambda r: len(r) >= 20, settle_s=1)
        assert [(r.partition, r.key, r.timestamp) for r in articles] == [
            (1, f"a{n}".encode(), 1_700_000_000_000 + n) for n in range(30, 50)
        ]
        assert [r.key for r in read_topic(fresh.url, names.decisions, until=lambda r: len(r) >= 2, settle_s=1)] == [b"d4", b"d5"]
        assert [(r.partition, r.value) for r in read_topic(fresh.url, names.deadletter, until=bool)] == [(3, b"letter")]
        assert read_topic(fresh.url, names.tagged, timeout_s=2) == []


def test_the_memory_table_store_never_rotates_since_its_tables_live_in_the_broker():
    assert budget_of(Settings(embedded_broker_budget_bytes=64 * MIB)) == 64 * MIB
    memory = Settings(embedded_broker_budget_bytes=64 * MIB, table_store="memory")
    assert budget_of(memory) == 0
    assert "MONITOR_TABLE_STORE=memory" in describe_budget(memory)


def test_settings_refuse_a_budget_an_idle_broker_would_exceed():
    with pytest.raises(ValueError, match="at least 32 MiB"):
        Settings(embedded_broker_budget_bytes=8 * MIB)
    assert Settings(embedded_broker_budget_bytes=0).embedded_broker_budget_bytes == 0


def test_the_read_model_forgets_positions_of_another_broker_and_keeps_its_rows(tmp_path):
    model = ReadModel(tmp_path / "console.sqlite3")
    assert not model.follow_broker(""), "a file without an incarnation is Kafka's"
    model.store(positions={("newsmon-alerts", 0): 7})
    assert model.follow_broker("one") and model.positions() == {}
    model.store(positions={("newsmon-alerts", 0): 3})
    assert not model.follow_broker("one") and model.positions() == {("newsmon-alerts", 0): 3}
    assert model.follow_broker("two") and model.positions() == {}


def _sinks_yaml(config_dir: Path, hook_url: str) -> None:
    hook = {
        "type": "webhook",
        "name": "hook",
        "url": hook_url,
        "secret": SECRET,
        "allow_networks": ["127.0.0.0/8"],
        "retry_delays_s": [1, 2, 4, 8],
        "retry_jitter": 0,
    }
    (config_dir / "sinks.yaml").write_text(yaml.safe_dump({"sinks": [{"type": "jsonl", "path": "alerts.jsonl"}, hook]}))


class BrokerMemory:
    """Samples what every Tansu process under the daemon holds (its anonymous resident memory,
    as the budget counts it), four times a second."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon
        self.peak = 0
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            for pid in self.daemon.tree():
                try:
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                if name == "tansu":
                    self.pids.add(pid)
                    self.peak = max(self.peak, broker_memory_bytes(pid) or 0)

    def __enter__(self) -> BrokerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _articles(count: int, developments: int) -> list:
    """Background articles with development reports spread through them, so alerts cross rotations."""
    reports = [article for _index, article in development_articles(reports=2)[:developments]]
    articles = background(count)
    for n, article in enumerate(reports):
        articles.insert((n + 1) * len(articles) // (len(reports) + 1), article)
    return articles


def _env(config_dir: Path, data: Path) -> dict[str, str]:
    return busy_feed_env(
        config_dir, data, MONITOR_EMBEDDED_BROKER_BUDGET_BYTES=str(BUDGET), MONITOR_ROTATION_DRAIN_TIMEOUT_S="60"
    )


def _rows(read_model: Path, table: str) -> set[str]:
    """Ids in one table of the console's read model."""
    if not read_model.exists():
        return set()
    with sqlite3.connect(read_model) as db:
        return {row[0] for row in db.execute(f"SELECT id FROM {table}")}


def _everything_arrives(feeds: StreamFeeds, hook: WebhookReceiver, read_model: Path, expected: set[str]) -> set[str]:
    """Wait until every article is decided and every alert delivered; return the alert ids."""
    wait_for(feeds.finished, 300, lambda: f"the feeds to publish everything ({feeds.published()} so far)")
    wait_for(
        lambda: expected <= _rows(read_model, "decisions"),
        120,
        lambda: f"every article decided ({len(expected - _rows(read_model, 'decisions'))} missing)",
    )
    alerts = _rows(read_model, "alerts")
    wait_for(lambda: alerts <= hook.unique_ids(), 60, lambda: f"alerts delivered: {alerts - hook.unique_ids()}")
    time.sleep(3)  # a duplicate would come right behind
    return alerts


@pytest.mark.timeout(420)
def test_rotation_under_load_decides_every_article_and_delivers_every_alert_once(config_dir, tmp_path):
    """A 32 MiB budget, articles from four busy feeds with ten developments among them: the
    broker is replaced at least twice; every article has a decision in the console's read
    model, every alert reached the webhook once, and the broker stayed within its budget."""
    with StreamFeeds(_articles(6400, 20), feeds=4, step=24, window=192) as feeds, WebhookReceiver(SECRET) as hook:
        feeds.write_feeds_yaml(config_dir)
        _sinks_yaml(config_dir, f"{hook.url}/hook")
        data = tmp_path / "data"
        expected = feeds.ids()
        daemon = Daemon(_env(config_dir, data))
        try:
            with BrokerMemory(daemon) as memory:
                daemon.wait_for(r"newsmon ready in [\d.]+ s", 120)
                began = time.monotonic()
                alerts = _everything_arrives(feeds, hook, data / "console.sqlite3", expected)
                took = time.monotonic() - began
                rotations = daemon.sample("newsmon_embedded_broker_rotations_total")
                output = daemon.output()
        finally:
            daemon.stop()

    lines = [line for line in output.splitlines() if "embedded broker rotated" in line]
    print(
        f"{len(expected)} articles in {took:.0f} s, {rotations:.0f} rotations, broker peak {memory.peak / MIB:.0f} MiB "
        f"(budget {BUDGET / MIB:.0f}), {len(alerts)} alerts",
        *lines,
        sep="\n",
    )
    assert rotations >= 2 and len(lines) == rotations, output[-4000:]
    assert len(memory.pids) == rotations + 1, "one broker process per incarnation"
    assert memory.peak <= BUDGET + MARGIN
    assert len(alerts) >= 5, "developments alerted on both sides of the rotations"
    ids = [request.headers["webhook-id"] for request in hook.delivered()]
    assert set(ids) == alerts, "every alert delivered, and none the read model does not know"
    assert len(ids) == len(set(ids)), "no alert delivered twice"


@pytest.mark.timeout(420)
def test_a_crash_in_the_middle_of_a_rotation_loses_nothing(config_dir, tmp_path):
    """SIGKILL to every process of newsmon run as soon as a rotation has drained (the old
    broker about to go, the new one starting), then newsmon run again: every article is
    decided and every alert delivered once, from the poller's state and the tables on disk."""
    with StreamFeeds(_articles(6000, 10), feeds=4, step=24, window=192) as feeds, WebhookReceiver(SECRET) as hook:
        feeds.write_feeds_yaml(config_dir)
        _sinks_yaml(config_dir, f"{hook.url}/hook")
        data = tmp_path / "data"
        log = data / "logs" / "newsmon.log"
        expected = feeds.ids()
        env = _env(config_dir, data)
        first = Daemon(env)
        try:
            first.wait_for(r"newsmon ready in [\d.]+ s", 120)
            wait_for(lambda: log.exists() and "rotation: drained" in log.read_text(), 180, "a rotation's drain")
            killed = first.kill_tree()
        finally:
            first.stop()
        decided_before = _rows(data / "console.sqlite3", "decisions")
        assert len(killed) >= 5, f"broker, poller, worker, console and daemon were running: {killed}"
        assert not feeds.finished(), "premise: articles were still to come when it crashed"
        second = Daemon({**env, "MONITOR_EMBEDDED_BROKER_BUDGET_BYTES": "0"})
        try:
            second.wait_for(r"newsmon ready in [\d.]+ s", 120)
            alerts = _everything_arrives(feeds, hook, data / "console.sqlite3", expected)
        finally:
            second.stop()

    print(f"killed mid-rotation with {len(decided_before)} of {len(expected)} decided; {len(alerts)} alerts in all")
    assert expected <= _rows(data / "console.sqlite3", "decisions")
    assert alerts, "developments alerted"
    ids = [request.headers["webhook-id"] for request in hook.delivered()]
    assert set(ids) == alerts and len(ids) == len(set(ids)), "every alert delivered once"
