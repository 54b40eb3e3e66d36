"""The metrics bundle on an injected registry; freshness is computed at scrape time."""

from prometheus_client import CollectorRegistry

from monitor.relevance.novelty import KIND_ESCALATION, KIND_NEW
from monitor.runtime.metrics import FeedFreshness, Metrics


def test_bundle_registers_on_the_given_registry_only():
    first, second = CollectorRegistry(), CollectorRegistry()
    Metrics(first).articles.labels("tagged").inc(3)
    Metrics(second)
    assert first.get_sample_value("newsmon_articles_total", {"outcome": "tagged"}) == 3
    # Stages start at 0 (so rate() counts the first articles); the second bundle saw none of the first's.
    assert second.get_sample_value("newsmon_articles_total", {"outcome": "tagged"}) == 0


def test_freshness_is_seconds_since_last_success_at_scrape_time():
    now = [1000.0]
    freshness = FeedFreshness(clock=lambda: now[0])
    registry = CollectorRegistry()
    registry.register(freshness)
    freshness.known(["a", "b"])
    freshness.polled("a", True)
    now[0] = 1060.0
    assert registry.get_sample_value("newsmon_feed_seconds_since_success", {"feed": "a"}) == 60
    freshness.polled("a", True)
    now[0] = 1075.0
    assert registry.get_sample_value("newsmon_feed_seconds_since_success", {"feed": "a"}) == 15
    assert registry.get_sample_value("newsmon_feed_seconds_since_success", {"feed": "b"}) == 75


def test_failures_in_a_row_count_from_the_first_poll_and_a_success_clears_them():
    """A feed that failed every poll since start-up is not stale yet, but already failing."""
    now = [1000.0]
    freshness = FeedFreshness(clock=lambda: now[0])
    registry = CollectorRegistry()
    registry.register(freshness)
    freshness.known(["a", "stored"], errors={"stored": 4})
    assert registry.get_sample_value("newsmon_feed_consecutive_errors", {"feed": "a"}) == 0
    # A restart does not make a failing feed ok: its stored failures in a row come back.
    assert registry.get_sample_value("newsmon_feed_consecutive_errors", {"feed": "stored"}) == 4
    freshness.polled("a", False)
    freshness.polled("a", False)
    freshness.polled("new", False)  # a feed added while running
    assert registry.get_sample_value("newsmon_feed_consecutive_errors", {"feed": "a"}) == 2
    assert registry.get_sample_value("newsmon_feed_consecutive_errors", {"feed": "new"}) == 1
    assert registry.get_sample_value("newsmon_feed_seconds_since_success", {"feed": "new"}) == 0
    now[0] = 1030.0
    freshness.polled("a", True)
    assert registry.get_sample_value("newsmon_feed_consecutive_errors", {"feed": "a"}) == 0
    assert registry.get_sample_value("newsmon_feed_seconds_since_success", {"feed": "a"}) == 0


def test_consumer_lag_is_a_snapshot_and_partitions_no_longer_owned_disappear():
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.consumer_lag.update({("articles", 0): 7, ("articles", 1): 0})
    assert registry.get_sample_value("newsmon_consumer_lag", {"kafka_topic": "articles", "partition": "0"}) == 7
    metrics.consumer_lag.update({("articles", 1): 3})
    assert registry.get_sample_value("newsmon_consumer_lag", {"kafka_topic": "articles", "partition": "0"}) is None
    assert registry.get_sample_value("newsmon_consumer_lag", {"kafka_topic": "articles", "partition": "1"}) == 3


def test_faust_sensor_records_into_the_injected_registry_not_the_global_one():
    from faust.types import TP
    from prometheus_client import REGISTRY

    registry = CollectorRegistry()
    metrics = Metrics(registry)
    monitor = metrics.faust_monitor()
    assert metrics.faust_monitor() is monitor, "a second call must not register the metrics twice"
    monitor.on_tp_commit({TP("newsmon-articles", 2): 41})
    labels = {"topic": "newsmon-articles", "partition": "2"}
    assert registry.get_sample_value("newsmon_faust_topic_partition_offset_commited", labels) == 41
    assert REGISTRY.get_sample_value("newsmon_faust_topic_partition_offset_commited", labels) is None


def test_known_worker_label_sets_start_at_zero_so_the_first_event_counts_in_increase():
    registry = CollectorRegistry()
    Metrics(registry).expect_worker_series(
        ["console", "console", "jsonl"], topics=["sanctions"], pairs=["CHN|RUS"], sources=["BBC News"], rules=["link-sanctions"]
    )
    assert registry.get_sample_value("newsmon_dead_letters_total", {"stage": "tag", "reason": "undecodable"}) == 0
    assert registry.get_sample_value("newsmon_dead_letters_total", {"stage": "deliver", "reason": "retries_exhausted"}) == 0
    assert registry.get_sample_value("newsmon_deliveries_total", {"sink": "jsonl", "outcome": "dead_lettered"}) == 0
    assert registry.get_sample_value("newsmon_delivery_seconds_count", {"sink": "console"}) == 0
    assert registry.get_sample_value("newsmon_relevant_articles_by_pair_total", {"topic": "sanctions", "pair": "CHN|RUS"}) == 0
    assert registry.get_sample_value("newsmon_relevant_articles_total", {"topic": "sanctions", "source": "BBC News"}) == 0
    assert registry.get_sample_value("newsmon_articles_total", {"outcome": "relevant"}) == 0
    assert registry.get_sample_value("newsmon_claims_total", {"topic": "sanctions", "pair": "CHN|RUS"}) == 0
    for kind in (KIND_NEW, KIND_ESCALATION):
        assert registry.get_sample_value("newsmon_alerts_total", {"rule": "link-sanctions", "kind": kind}) == 0


def test_embedded_broker_memory_is_read_at_scrape_time_and_absent_when_the_process_is_gone():
    import os
    import subprocess
    import sys

    from monitor.runtime.metrics import EmbeddedBrokerMemory

    registry = CollectorRegistry()
    registry.register(EmbeddedBrokerMemory(os.getpid()))
    assert registry.get_sample_value("newsmon_embedded_broker_rss_bytes") > 10 * 2**20
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = CollectorRegistry()
    gone.register(EmbeddedBrokerMemory(int(finished.stdout)))
    assert gone.get_sample_value("newsmon_embedded_broker_rss_bytes") is None


def test_the_supervisor_warns_once_an_hour_when_the_broker_outgrows_its_limit(caplog):
    import os

    from monitor.runtime.supervise import _check_broker_memory

    with caplog.at_level("WARNING", logger="newsmon.run"):
        warned = _check_broker_memory(os.getpid(), 1, 0.0)
        again = _check_broker_memory(os.getpid(), 1, warned)
        quiet = _check_broker_memory(os.getpid(), 2**50, 0.0)
    assert warned > 0 and again == warned and quiet == 0.0
    assert len([r for r in caplog.records if "embedded broker holds" in r.message]) == 1
