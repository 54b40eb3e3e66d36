"""The metrics bundle on an injected registry; freshness is computed at scrape time."""

from prometheus_client import CollectorRegistry

from monitor.metrics import FeedFreshness, Metrics


def test_bundle_registers_on_the_given_registry_only():
    first, second = CollectorRegistry(), CollectorRegistry()
    Metrics(first).articles.labels("tagged").inc(3)
    Metrics(second)
    assert first.get_sample_value("newsmon_articles_total", {"stage": "tagged"}) == 3
    # Stages start at 0 (so rate() counts the first articles); the second bundle saw none of the first's.
    assert second.get_sample_value("newsmon_articles_total", {"stage": "tagged"}) == 0


def test_freshness_is_seconds_since_last_success_at_scrape_time():
    now = [1000.0]
    freshness = FeedFreshness(clock=lambda: now[0])
    registry = CollectorRegistry()
    registry.register(freshness)
    freshness.known(["a", "b"])
    freshness.succeeded("a")
    now[0] = 1060.0
    assert registry.get_sample_value("newsmon_feed_seconds_since_success", {"feed": "a"}) == 60
    freshness.succeeded("a")
    now[0] = 1075.0
    assert registry.get_sample_value("newsmon_feed_seconds_since_success", {"feed": "a"}) == 15
    assert registry.get_sample_value("newsmon_feed_seconds_since_success", {"feed": "b"}) == 75


def test_consumer_lag_is_a_snapshot_and_partitions_no_longer_owned_disappear():
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.consumer_lag.update({("articles", 0): 7, ("articles", 1): 0})
    assert registry.get_sample_value("newsmon_consumer_lag", {"topic": "articles", "partition": "0"}) == 7
    metrics.consumer_lag.update({("articles", 1): 3})
    assert registry.get_sample_value("newsmon_consumer_lag", {"topic": "articles", "partition": "0"}) is None
    assert registry.get_sample_value("newsmon_consumer_lag", {"topic": "articles", "partition": "1"}) == 3


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
    Metrics(registry).expect_worker_series(["console", "console", "jsonl"], topics=["sanctions"], pairs=["CHN|RUS"], sources=["BBC News"])
    assert registry.get_sample_value("newsmon_dead_letters_total", {"stage": "tag", "reason": "undecodable"}) == 0
    assert registry.get_sample_value("newsmon_dead_letters_total", {"stage": "deliver", "reason": "retries_exhausted"}) == 0
    assert registry.get_sample_value("newsmon_deliveries_total", {"sink": "jsonl", "outcome": "dead_lettered"}) == 0
    assert registry.get_sample_value("newsmon_delivery_seconds_count", {"sink": "console"}) == 0
    assert registry.get_sample_value("newsmon_relevant_articles_by_pair_total", {"topic": "sanctions", "pair": "CHN|RUS"}) == 0
    assert registry.get_sample_value("newsmon_relevant_articles_total", {"topic": "sanctions", "source": "BBC News"}) == 0
    assert registry.get_sample_value("newsmon_articles_total", {"stage": "relevant"}) == 0
