"""Every domain metric of newsmon, as one bundle created against an injected registry.

Tests build the bundle on a fresh ``CollectorRegistry`` and read values with
``get_sample_value``; processes build it on their own registry and serve it on
``/metrics``. Label values come from small fixed sets (a feed's configured name is the
one exception, and never its URL).

The worker's registry also carries Faust's own Prometheus sensor (stream internals,
``newsmon_faust_*``, latencies in milliseconds as Faust observes them) and the consumer
lag the worker measures; ``monitor.runtime.exposition`` serves it beside ``/healthz`` and ``/readyz``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from monitor.runtime.health import Health

POLL_OUTCOMES = (
    "ok",
    "not_modified",
    "http_error",
    "network_error",
    "parse_error",
    "timeout",
    "too_large",
    "blocked",
    "publish_error",
    "gone",
    "rate_limited",
)
FEED_STATUSES = ("active", "broken", "gone")
ARTICLE_OUTCOMES = ("polled", "unreadable", "cut", "tagged", "decided", "relevant", "failed")
LATENCY_BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
#: Every (stage, reason) the worker dead-letters with, and every delivery outcome: their
#: series start at 0, so increase() and rate() also count the first occurrence.
DEAD_LETTER_CAUSES = (
    ("tag", "undecodable"),
    ("tag", "nlp_failed"),
    ("detect", "undecodable"),
    ("detect", "detect_failed"),
    ("deliver", "undecodable"),
    ("deliver", "rejected"),
    ("deliver", "retries_exhausted"),
    ("deliver", "sink_error"),
    ("deliver", "sink_removed"),
)
#: monitor.relevance.novelty's alert kinds (not imported: it would pull the story code into every process).
ALERT_KINDS = ("new", "escalation")
DELIVERY_OUTCOMES = (
    "delivered",
    "duplicate_skipped",
    "retry_scheduled",
    "digest_queued",
    "dead_lettered",
    "below_min_severity",
)
#: Faust's sensor names its metrics after this prefix, never after the app id (which
#: differs per deployment and per test), so dashboards can rely on the names.
FAUST_PREFIX = "newsmon_faust"


class FeedFreshness(Collector):
    """Per feed, seconds since it last polled successfully (computed at scrape time) and how
    many polls in a row have failed since.

    Both, because staleness alone says "ok" for the first two poll intervals of a feed that
    has failed every poll since start-up (no DNS, a wrong URL): the failures in a row say it
    at the first poll.
    """

    def __init__(self, clock: Callable[[], float] = time.time):
        self._clock = clock
        self._last_success: dict[str, float] = {}
        self._errors: dict[str, int] = {}
        self._lock = threading.Lock()

    def polled(self, feed: str, success: bool, when: float | None = None) -> None:
        with self._lock:
            if success:
                self._last_success[feed] = self._clock() if when is None else when
                self._errors[feed] = 0
            else:
                self._last_success.setdefault(feed, self._clock() if when is None else when)
                self._errors[feed] = self._errors.get(feed, 0) + 1

    def known(self, feeds: Iterable[str], since: float | None = None, errors: dict[str, int] | None = None) -> None:
        """Register feeds that have not succeeded yet, counting from ``since`` (start-up), with
        the failures in a row their stored state holds (a restart does not make them ok)."""
        start = self._clock() if since is None else since
        with self._lock:
            for feed in feeds:
                self._last_success.setdefault(feed, start)
                self._errors.setdefault(feed, (errors or {}).get(feed, 0))

    def collect(self):
        family = GaugeMetricFamily(
            "newsmon_feed_seconds_since_success",
            "Seconds since the feed was last fetched and parsed successfully (304 counts).",
            labels=["feed"],
        )
        errors = GaugeMetricFamily(
            "newsmon_feed_consecutive_errors", "Polls of the feed that failed in a row (0: the last one worked).", labels=["feed"]
        )
        now = self._clock()
        with self._lock:
            for feed, when in sorted(self._last_success.items()):
                family.add_metric([feed], max(0.0, now - when))
                errors.add_metric([feed], self._errors.get(feed, 0))
        yield family
        yield errors


class ConsumerLag(Collector):
    """Messages not yet processed per source topic partition, as the worker last measured.

    The worker refreshes the snapshot on a timer (broker log-end offset minus the group's
    committed offset); a scrape only reads it, so it never waits on the broker.
    """

    def __init__(self) -> None:
        self._lag: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def update(self, lag: Mapping[tuple[str, int], int]) -> None:
        """Replace the snapshot: partitions this worker no longer owns disappear."""
        with self._lock:
            self._lag = dict(lag)

    def collect(self):
        family = GaugeMetricFamily(
            "newsmon_consumer_lag",
            "Messages behind the log end, per source topic partition this worker owns.",
            labels=["kafka_topic", "partition"],
        )
        with self._lock:
            for (topic, partition), lag in sorted(self._lag.items()):
                family.add_metric([topic, str(partition)], lag)
        yield family


def process_rss_bytes(pid: int, field: str = "VmRSS") -> int | None:
    """Resident memory of process ``pid`` from /proc (None when it is gone or unreadable);
    ``field="RssAnon"``: its anonymous part only, without the pages of its executable."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def broker_memory_bytes(pid: int) -> int | None:
    """What the embedded broker holds: its anonymous resident memory. Its total RSS also counts
    the pages of its 30 MiB static binary that happen to be resident, which measured 16 MiB for
    an idle broker in one run and 33 MiB in another on the same machine; the messages it keeps
    are anonymous memory, and that is what a budget can bound."""
    return process_rss_bytes(pid, "RssAnon")


class EmbeddedBrokerMemory(Collector):
    """The embedded broker's resident memory, read at scrape time.

    Tansu keeps every message in memory (no retention), so this only grows; the README
    gives the growth per article and the point at which to move to Kafka.
    """

    def __init__(self, pid: int):
        self.pid = pid

    def collect(self):
        family = GaugeMetricFamily(
            "newsmon_embedded_broker_rss_bytes",
            "Resident memory of the embedded Tansu broker, bytes.",
        )
        rss = process_rss_bytes(self.pid)
        if rss is not None:
            family.add_metric([], rss)
        yield family


class EmbeddedBrokerRotations(Collector):
    """How many times ``newsmon run`` replaced its embedded broker with a fresh one.

    The supervisor counts rotations and serves no metrics page of its own; it restarts the
    poller at each rotation with the count so far (``MONITOR_EMBEDDED_BROKER_ROTATIONS``),
    and the poller exports it beside the broker's memory. A restart of ``newsmon run`` starts
    it again at 0, as any counter's reset.
    """

    def __init__(self, count: int):
        self.count = count

    def collect(self):
        yield CounterMetricFamily(
            "newsmon_embedded_broker_rotations",
            "Times newsmon run drained the pipeline and replaced the embedded broker with a fresh one.",
            value=self.count,
        )


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
            "newsmon_feed_fetch_seconds",
            "Time to fetch one feed, seconds.",
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30),
        )
        self.feeds = Gauge("newsmon_feeds", "Feeds this poller owns, by status (active, broken, gone).", ["status"], registry=r)
        self.poll_lag_seconds = Gauge(
            "newsmon_poll_lag_seconds", "How overdue the most overdue feed was when a poll round started.", registry=r
        )
        self.entities_refused = Counter(
            "newsmon_feed_entities_refused",
            "Entity declarations removed from feed DOCTYPEs before parsing (XXE, entity bombs).",
            registry=r,
        )
        self.fulltext = Counter(
            "newsmon_fulltext_fetches", "Article pages fetched for full text, by outcome.", ["outcome"], registry=r
        )
        # --- pipeline ---
        self.articles = Counter("newsmon_articles", "Articles by outcome at each point of the pipeline.", ["outcome"], registry=r)
        for stage in ARTICLE_OUTCOMES:  # present from the start, so rate() sees the first articles
            self.articles.labels(stage)
        self.nlp_seconds = Counter("newsmon_nlp_seconds", "Seconds spent in spaCy (wall time of tag batches).", registry=r)
        self.nlp_batch_seconds = Histogram(
            "newsmon_nlp_batch_seconds",
            "Wall time of one nlp.pipe micro-batch, seconds.",
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32),
        )
        self.nlp_batch_size = Histogram(
            "newsmon_nlp_batch_articles",
            "Articles per nlp.pipe micro-batch.",
            registry=r,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
        )
        self.claims = Counter("newsmon_claims", "Claims extracted by topic and actor pair.", ["topic", "pair"], registry=r)
        self.stories_created = Counter("newsmon_stories_created", "Stories opened.", registry=r)
        self.alerts = Counter("newsmon_alerts", "Alerts raised by rule and kind (new, escalation).", ["rule", "kind"], registry=r)
        self.mentions = Counter(
            "newsmon_relevant_articles", "Relevant articles by topic and outlet.", ["topic", "source"], registry=r
        )
        self.pair_mentions = Counter(
            "newsmon_relevant_articles_by_pair",
            "Relevant articles by topic and watched actor pair.",
            ["topic", "pair"],
            registry=r,
        )
        self.feed_to_alert_seconds = Histogram(
            "newsmon_feed_to_alert_seconds",
            "From fetching the article to raising its alert, seconds.",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.processing_seconds = Histogram(
            "newsmon_processing_seconds",
            "From fetching an article to its decision, seconds.",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        # --- delivery ---
        self.deliveries = Counter(
            "newsmon_deliveries", "Alert deliveries by sink type and outcome.", ["sink", "outcome"], registry=r
        )
        self.delivery_seconds = Histogram(
            "newsmon_delivery_seconds",
            "Time to deliver one alert to one sink, seconds.",
            ["sink"],
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 30),
        )
        self.dead_letters = Counter(
            "newsmon_dead_letters", "Messages routed to the dead-letter topic.", ["stage", "reason"], registry=r
        )
        self.delivery_attempts = Counter(
            "newsmon_delivery_attempts",
            "Delivery attempts by sink type and result (ok, retryable, rejected, throttled: nothing sent, error: sink bug).",
            ["sink", "outcome"],
            registry=r,
        )
        self.delivery_lag_seconds = Histogram(
            "newsmon_delivery_lag_seconds",
            "From raising an alert to its delivery (retries included), seconds.",
            ["sink"],
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.deliveries_pending = Gauge(
            "newsmon_deliveries_pending",
            "Deliveries waiting for a retry or a digest, by sink type.",
            ["sink"],
            registry=r,
        )
        self.timer_errors = Counter(
            "newsmon_timer_errors", "Runs of a worker timer that failed (tried again at its next run).", ["timer"], registry=r
        )
        self.ledger_pruned = Counter(
            "newsmon_ledger_pruned", "Delivery-ledger entries deleted after ledger_retention_s.", registry=r
        )
        self.ledger_entries = Gauge(
            "newsmon_ledger_entries", "Delivery-ledger entries of this worker's partitions, counted at each prune.", registry=r
        )
        self.up_since = Gauge(
            "newsmon_process_start_time_seconds", "When this newsmon process started (unix time).", ["role"], registry=r
        )
        # --- stream internals (worker) ---
        self.consumer_lag = ConsumerLag()
        r.register(self.consumer_lag)
        self._faust_monitor: Any = None  # faust.sensors.prometheus.PrometheusMonitor, imported lazily
        self._process_collected = False
        #: Served as /healthz and /readyz beside /metrics.
        self.health = Health()

    def expect_worker_series(
        self,
        sink_types: Iterable[str],
        topics: Iterable[str] = (),
        pairs: Iterable[str] = (),
        sources: Iterable[str] = (),
        rules: Iterable[str] = (),
    ) -> None:
        """Create the worker's label sets known from its config at 0: dead-letter causes,
        each sink's outcomes, mentions and claims per topic × pair, mentions per topic ×
        configured outlet, alerts per rule × kind.

        A counter child born at 1 shows no increase() until its second event; relevant
        articles are rare, so without this the first one per outlet would be lost.
        """
        for stage, reason in DEAD_LETTER_CAUSES:
            self.dead_letters.labels(stage, reason)
        for sink in set(sink_types):
            self.delivery_seconds.labels(sink)
            for outcome in DELIVERY_OUTCOMES:
                self.deliveries.labels(sink, outcome)
        topics, pairs, sources = list(topics), list(pairs), set(sources)
        for topic in topics:
            for pair in pairs:
                self.pair_mentions.labels(topic, pair)
                self.claims.labels(topic, pair)
            for source in sources:
                self.mentions.labels(topic, source)
        for rule in rules:
            for kind in ALERT_KINDS:
                self.alerts.labels(rule, kind)

    def faust_monitor(self):
        """Faust's own Prometheus sensor, recording into this bundle's registry.

        We build the sensor ourselves instead of calling ``setup_prometheus_sensors``,
        which would also need Faust's web server for a second ``/metrics`` page: one
        endpoint per process serves both Faust's and our metrics.
        """
        if self._faust_monitor is None:
            from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor

            self._faust_monitor = PrometheusMonitor(metrics=FaustMetrics.create(self.registry, FAUST_PREFIX))
        return self._faust_monitor

    def collect_process(self) -> None:
        """Add this process's RSS, CPU seconds and open fds (not those of the worker's spaCy
        child), once per bundle: only processes that are scraped need them."""
        if not self._process_collected:
            ProcessCollector(registry=self.registry)
            self._process_collected = True
