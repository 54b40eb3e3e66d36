"""``newsmon poll``: the poller process. It runs ``monitor.ingest``'s Poller and publishes what
it returns to the articles topic with kafka-python, waiting for the broker's acks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from monitor.ingest.doctype import expat_status
from monitor.ingest.poll import Poller
from monitor.ingest.pollstate import FeedStateStore
from monitor.models import Article, FeedStatus
from monitor.runtime.exposition import serve
from monitor.runtime.metrics import EmbeddedBrokerMemory, EmbeddedBrokerRotations, Metrics
from monitor.settings import Settings

log = logging.getLogger("monitor.ingest.poll")


class KafkaPublisher:
    """Publishes articles to the articles topic, keyed by article id, and waits for acks;
    and each poll's feed status to ``status_topic`` (if given), keyed by feed name."""

    def __init__(self, producer, topic: str, status_topic: str = ""):
        self.producer = producer
        self.topic = topic
        self.status_topic = status_topic

    async def publish(self, articles: Sequence[Article]) -> None:
        futures = [self.producer.send(self.topic, key=a.id.encode(), value=a.dumps(serializer="json")) for a in articles]
        loop = asyncio.get_running_loop()
        # flush() blocks until the broker acknowledged everything; keep it off the loop.
        await loop.run_in_executor(None, self.producer.flush)
        for future in futures:
            future.get(timeout=0)  # raises the send's error, if any

    async def report_feeds(self, statuses: Sequence[FeedStatus]) -> None:
        if not self.status_topic:
            return
        for status in statuses:
            self.producer.send(self.status_topic, key=status.feed.encode(), value=status.dumps(serializer="json"))
        # Not flushed here: the next articles' flush (or linger) sends them; a lost status is
        # only a stale line on the health page, and the next poll writes it again.


def log_parser_safety() -> None:
    """Start-up: which Expat parses feeds, and whether it limits entity amplification."""
    version, protected = expat_status()
    if protected:
        log.info("XML parser: %s (entity amplification limits present)", version)
    else:
        log.warning(
            "XML parser: %s lacks the entity amplification limits of expat >= 2.4.1; "
            "newsmon's DOCTYPE filter is the only defence against entity bombs",
            version,
        )


async def run_poller(settings: Settings, *, once: bool = False) -> int:
    """``newsmon poll``: the standalone poller process; returns the exit status."""
    import signal

    from monitor.ingest.feedlist import load_feeds
    from monitor.net.guard import allowlist, describe
    from monitor.runtime.health import beat_forever
    from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics, make_producer

    feeds = load_feeds(settings.config_file("feeds.yaml")).enabled
    if not settings.bootstrap_servers:
        log.error("the poller needs a broker: set MONITOR_BROKER_URL (newsmon run starts one for you)")
        return 2
    log_parser_safety()
    allowed = list(describe(allowlist(settings.fetch_allowlist)))
    if allowed:
        log.warning("address guard allowlist: fetches may reach %s", ", ".join(allowed))
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, ensure_topics, settings)
    producer = await loop.run_in_executor(None, make_producer, settings)
    names = KafkaTopicNames.for_settings(settings)
    store = FeedStateStore(settings.data_dir / "poller" / "state.sqlite3", keep_per_feed=settings.seen_ids_per_feed)
    metrics = Metrics()
    metrics.up_since.labels("poller").set_to_current_time()
    if settings.embedded_broker_pid:
        metrics.registry.register(EmbeddedBrokerMemory(settings.embedded_broker_pid))
        metrics.registry.register(EmbeddedBrokerRotations(settings.embedded_broker_rotations))
    serve(metrics, settings.poller_metrics_port, settings.metrics_host)
    heartbeat = asyncio.create_task(beat_forever(metrics.health))
    metrics.health.set_ready()  # topics exist and the producer is connected
    poller = Poller(settings, feeds, KafkaPublisher(producer, names.articles, names.feed_status), store, metrics)
    log.info(
        "polling %d of %d feeds (replica %d of %d)",
        len(poller.feeds),
        len(feeds),
        settings.poller_replica,
        settings.poller_replicas,
    )
    try:
        if once:
            reports = await poller.run_once()
            for report in reports:
                log.info("feed %s: %s, %d new, %d updated", report.feed, report.outcome, report.new, report.updated)
            return 0
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await poller.run_forever(stop)
        return 0
    finally:
        heartbeat.cancel()
        await loop.run_in_executor(None, producer.close)
        store.close()
