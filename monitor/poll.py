"""The poller: fetch → parse → publish new items, for every due feed, forever.

A standalone process producing with kafka-python. One broken feed is counted, logged
with its cause and rescheduled with back-off; it never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from monitor.feeds import FeedConfig
from monitor.feedstate import FeedState, FeedStateStore
from monitor.fetch import FetchResult, fetch, make_session
from monitor.metrics import Metrics
from monitor.models import Article
from monitor.parse import parse_feed
from monitor.schedule import next_poll
from monitor.settings import Settings

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """Where new articles go; raises if the broker did not take them."""

    async def publish(self, articles: Sequence[Article]) -> None: ...


class KafkaPublisher:
    """Publishes articles to the articles topic, keyed by article id, and waits for acks."""

    def __init__(self, producer, topic: str):
        self.producer = producer
        self.topic = topic

    async def publish(self, articles: Sequence[Article]) -> None:
        futures = [
            self.producer.send(self.topic, key=a.id.encode(), value=a.dumps(serializer="json")) for a in articles
        ]
        loop = asyncio.get_running_loop()
        # flush() blocks until the broker acknowledged everything; keep it off the loop.
        await loop.run_in_executor(None, self.producer.flush)
        for future in futures:
            future.get(timeout=0)  # raises the send's error, if any


@dataclass
class PollReport:
    feed: str
    outcome: str
    new: int = 0
    updated: int = 0
    error: str = ""


class Poller:
    """Polls the configured feeds and publishes what is new."""

    def __init__(
        self,
        settings: Settings,
        feeds: Sequence[FeedConfig],
        publisher: Publisher,
        store: FeedStateStore,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self.feeds = list(feeds)
        self.publisher = publisher
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.metrics.feed_freshness.known([feed.name for feed in self.feeds])

    def interval(self, feed: FeedConfig) -> float:
        return feed.interval_s or self.settings.poll_interval_s

    async def run_once(self, *, only_due: bool = False) -> list[PollReport]:
        """Poll every feed (or every due feed) once, concurrently within the limits."""
        now = self.clock()
        feeds = [f for f in self.feeds if not only_due or self.store.load(f.name, f.url).next_due <= now]
        if not feeds:
            return []
        semaphore = asyncio.Semaphore(self.settings.poll_concurrency)
        async with make_session(self.settings) as session:

            async def guarded(feed: FeedConfig) -> PollReport:
                async with semaphore:
                    return await self.poll_feed(session, feed)

            return list(await asyncio.gather(*(guarded(feed) for feed in feeds)))

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll due feeds until ``stop`` is set; sleep until the next one is due."""
        while not stop.is_set():
            await self.run_once(only_due=True)
            upcoming = [self.store.load(f.name, f.url).next_due for f in self.feeds]
            delay = max(0.5, min(upcoming, default=60.0) - self.clock())
            try:
                await asyncio.wait_for(stop.wait(), timeout=min(delay, 30.0))
            except TimeoutError:
                pass

    async def poll_feed(self, session, feed: FeedConfig) -> PollReport:
        """Fetch, parse and publish one feed; never raises."""
        state = self.store.load(feed.name, feed.url)
        if state.url != feed.url and state.status != "moved":
            state.url = feed.url  # the config changed the URL: it wins over a stored one
        state.last_attempt = self.clock()
        try:
            report = await self._poll(session, feed, state)
        except Exception as exc:  # noqa: BLE001 - the last line of defence for other feeds
            log.exception("feed %s: unexpected error", feed.name)
            report = PollReport(feed.name, "network_error", error=f"{type(exc).__name__}: {exc}")
        success = report.outcome in ("ok", "not_modified")
        state.consecutive_errors = 0 if success else state.consecutive_errors + 1
        state.last_error = None if success else report.error
        if success:
            state.last_success = self.clock()
            self.metrics.feed_freshness.succeeded(feed.name, state.last_success)
        else:
            log.warning("feed %s: %s: %s", feed.name, report.outcome, report.error)
        state.next_due = next_poll(self.clock(), self.interval(feed), state.consecutive_errors)
        self.store.save(state)
        self.metrics.feed_polls.labels(feed.name, report.outcome).inc()
        return report

    async def _poll(self, session, feed: FeedConfig, state: FeedState) -> PollReport:
        result: FetchResult = await fetch(
            session, state.url, self.settings, etag=state.etag, last_modified=state.last_modified
        )
        self.metrics.fetch_seconds.observe(result.seconds)
        if result.outcome not in ("ok", "not_modified"):
            return PollReport(feed.name, result.outcome, error=result.error)
        if result.moved_to:
            log.info("feed %s moved permanently to %s", feed.name, result.moved_to)
            state.url = result.moved_to
        if result.outcome == "not_modified":
            return PollReport(feed.name, "not_modified")
        parsed = parse_feed(result.body, feed_name=feed.name, source=feed.source, headers=result.headers)
        if parsed.unusable:
            return PollReport(feed.name, "parse_error", error=parsed.error or "not an RSS or Atom feed")
        known = self.store.known_hashes(feed.name, [a.id for a in parsed.articles])
        fresh = [a for a in parsed.articles if a.id not in known]
        changed = [a for a in parsed.articles if a.id in known and known[a.id] != a.content_hash]
        outgoing = fresh + [a.derive(updated=True) for a in changed]
        if outgoing:
            try:
                await self.publisher.publish(outgoing)
            except Exception as exc:  # noqa: BLE001 - the broker refused; retry the feed later
                return PollReport(feed.name, "publish_error", error=f"broker did not take the items: {exc}")
            self.store.mark_sent(feed.name, [(a.id, a.content_hash) for a in outgoing])
            self.metrics.articles.labels("polled").inc(len(outgoing))
        # Validators only once the items are safely published: a failed publish must refetch.
        state.etag = result.etag
        state.last_modified = result.last_modified
        return PollReport(feed.name, "ok", new=len(fresh), updated=len(changed))


async def run_poller(settings: Settings, *, once: bool = False) -> int:
    """``newsmon poll``: the standalone poller process; returns the exit status."""
    import signal

    from monitor.feeds import load_feeds
    from monitor.health import beat_forever
    from monitor.topics import TopicNames, ensure_topics, make_producer

    feeds = load_feeds(settings.config_file("feeds.yaml")).enabled
    if not settings.bootstrap_servers:
        log.error("the poller needs a broker: set MONITOR_BROKER_URL (newsmon run starts one for you)")
        return 2
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, ensure_topics, settings)
    producer = await loop.run_in_executor(None, make_producer, settings)
    store = FeedStateStore(settings.data_dir / "poller" / "state.sqlite3", keep_per_feed=settings.seen_ids_per_feed)
    metrics = Metrics()
    metrics.up_since.labels("poller").set_to_current_time()
    metrics.serve(settings.poller_metrics_port, settings.metrics_host)
    heartbeat = asyncio.create_task(beat_forever(metrics.health))
    metrics.health.set_ready()  # topics exist and the producer is connected
    poller = Poller(settings, feeds, KafkaPublisher(producer, TopicNames.for_settings(settings).articles), store, metrics)
    log.info("polling %d feeds", len(feeds))
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
