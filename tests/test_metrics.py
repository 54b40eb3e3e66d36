"""The metrics bundle on an injected registry; freshness is computed at scrape time."""

from prometheus_client import CollectorRegistry

from monitor.metrics import FeedFreshness, Metrics


def test_bundle_registers_on_the_given_registry_only():
    first, second = CollectorRegistry(), CollectorRegistry()
    Metrics(first).articles.labels("tagged").inc(3)
    Metrics(second)
    assert first.get_sample_value("newsmon_articles_total", {"stage": "tagged"}) == 3
    assert second.get_sample_value("newsmon_articles_total", {"stage": "tagged"}) is None


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
