"""Every domain metric of newsmon, as one bundle created against an injected registry.

Tests build the bundle on a fresh ``CollectorRegistry`` and read values with
``get_sample_value``; processes build it on their own registry and serve it on
``/metrics``. Label values come from small fixed sets (a feed's configured name is the
one exception, and never its URL).
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

POLL_OUTCOMES = (
    "ok", "not_modified", "http_error", "network_error", "parse_error", "timeout", "too_large", "blocked",
    "publish_error", "gone", "rate_limited",
)
FEED_STATUSES = ("active", "broken", "gone")
FULLTEXT_OUTCOMES = ("ok", "empty", "skipped", "http_error", "network_error", "timeout", "too_large", "blocked", "gone", "rate_limited")
STAGES = ("polled", "tagged", "decided", "relevant", "failed")
LATENCY_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)


class FeedFreshness(Collector):
    """Seconds since each feed last polled successfully, computed at scrape time."""

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._last_success: dict[str, float] = {}
        self._lock = threading.Lock()

    def succeeded(self, feed: str, when: float | None = None) -> None:
        with self._lock:
            self._last_success[feed] = self._clock() if when is None else when

    def known(self, feeds: Iterable[str], since: float | None = None) -> None:
        """Register feeds that have not succeeded yet, counting from ``since`` (start-up)."""
        start = self._clock() if since is None else since
        with self._lock:
            for feed in feeds:
                self._last_success.setdefault(feed, start)

    def collect(self):
        family = GaugeMetricFamily(
            "newsmon_feed_seconds_since_success",
            "Seconds since the feed was last fetched and parsed successfully (304 counts).",
            labels=["feed"],
        )
        now = self._clock()
        with self._lock:
            for feed, when in sorted(self._last_success.items()):
                family.add_metric([feed], max(0.0, now - when))
        yield family


class Metrics:
    """The domain metrics of every stage."""

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        # --- poller ---
        self.feed_polls = Counter("newsmon_feed_polls", "Feed polls by outcome.", ["feed", "outcome"], registry=r)
        self.feed_freshness = FeedFreshness()
        r.register(self.feed_freshness)
        self.fetch_seconds = Histogram(
            "newsmon_feed_fetch_seconds", "Time to fetch one feed, seconds.", registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30),
        )
        self.feeds = Gauge("newsmon_feeds", "Feeds this poller owns, by status (active, broken, gone).", ["status"], registry=r)
        self.poll_lag_seconds = Gauge(
            "newsmon_poll_lag_seconds", "How overdue the most overdue feed was when a poll round started.", registry=r
        )
        self.entities_refused = Counter(
            "newsmon_feed_entities_refused",
            "Entity declarations removed from feed DOCTYPEs before parsing (XXE, entity bombs).", registry=r,
        )
        self.fulltext = Counter(
            "newsmon_fulltext_fetches", "Article pages fetched for full text, by outcome.", ["outcome"], registry=r
        )
        # --- pipeline ---
        self.articles = Counter("newsmon_articles", "Articles by pipeline stage.", ["stage"], registry=r)
        self.nlp_seconds = Counter("newsmon_nlp_seconds", "Seconds spent in spaCy (wall time of tag batches).", registry=r)
        self.nlp_batch_seconds = Histogram(
            "newsmon_nlp_batch_seconds", "Wall time of one nlp.pipe micro-batch, seconds.", registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32),
        )
        self.nlp_batch_size = Histogram(
            "newsmon_nlp_batch_articles", "Articles per nlp.pipe micro-batch.", registry=r,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
        )
        self.claims = Counter("newsmon_claims", "Claims extracted by topic and actor pair.", ["topic", "pair"], registry=r)
        self.stories_created = Counter("newsmon_stories_created", "Stories opened.", registry=r)
        self.alerts = Counter("newsmon_alerts", "Alerts raised by rule and kind (new, escalation).", ["rule", "kind"], registry=r)
        self.mentions = Counter(
            "newsmon_relevant_articles", "Relevant articles by topic and outlet.", ["topic", "source"], registry=r
        )
        self.feed_to_alert_seconds = Histogram(
            "newsmon_feed_to_alert_seconds", "From fetching the article to raising its alert, seconds.",
            registry=r, buckets=LATENCY_BUCKETS,
        )
        self.processing_seconds = Histogram(
            "newsmon_processing_seconds", "From fetching an article to its decision, seconds.", registry=r,
            buckets=LATENCY_BUCKETS,
        )
        # --- delivery ---
        self.deliveries = Counter("newsmon_deliveries", "Alert deliveries by sink type and outcome.", ["sink", "outcome"], registry=r)
        self.delivery_seconds = Histogram(
            "newsmon_delivery_seconds", "Time to deliver one alert to one sink, seconds.", ["sink"], registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 30),
        )
        self.dead_letters = Counter("newsmon_dead_letters", "Messages routed to the dead-letter topic.", ["stage", "reason"], registry=r)
        self.up_since = Gauge("newsmon_process_start_time_seconds", "When this newsmon process started (unix time).", ["role"], registry=r)

    def serve(self, port: int, host: str = "0.0.0.0") -> None:
        """Serve ``/metrics`` for this bundle's registry (port 0: not served)."""
        if port:
            start_http_server(port, addr=host, registry=self.registry)
