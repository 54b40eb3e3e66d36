"""The poller: fetch → parse → (full text) → publish new items, for every due feed, forever.

A standalone process producing with kafka-python. Each round asks the state store for
the due feeds in one query, interleaves them by host, and polls them concurrently
within a global limit and a per-host limit. When to poll a feed next is decided by
``monitor.ingest.schedule`` from what the poll saw. A changed feed is parsed only where its
items changed (``monitor.ingest.items.item_spans``): feedparser is the dominant cost, and most
of a changed feed is items already sent. One broken feed is counted, logged with its
cause and rescheduled with back-off; it never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit

import aiohttp

from monitor.ingest.feedlist import FeedConfig
from monitor.ingest.fetch import FetchResult, fetch, make_session
from monitor.ingest.fulltext import enrich
from monitor.ingest.items import item_digest, item_spans, without_spans
from monitor.ingest.parse import parse_feed
from monitor.ingest.pollstate import FeedState, FeedStateStore
from monitor.ingest.replicas import owned_by
from monitor.ingest.schedule import (
    BROKEN,
    GONE,
    SUCCESS,
    Plan,
    ScheduleLimits,
    Signals,
    cache_lifetime_s,
    next_delay,
    plan_next,
    weekly_items,
)
from monitor.models import Article, FeedStatus
from monitor.net.retry_after import retry_after_s
from monitor.runtime.metrics import FEED_STATUSES, Metrics
from monitor.settings import Settings

log = logging.getLogger(__name__)


class Publisher(Protocol):
    """Where new articles go; raises if the broker did not take them."""

    async def publish(self, articles: Sequence[Article]) -> None: ...

    async def report_feeds(self, statuses: Sequence[FeedStatus]) -> None:
        """Each polled feed's outcome, for people (the console's health page)."""


@dataclass
class PollReport:
    feed: str
    outcome: str
    new: int = 0
    updated: int = 0
    error: str = ""
    #: Seconds until the next poll, and why.
    delay_s: float = 0.0
    reason: str = ""
    status: str = "active"
    consecutive_errors: int = 0
    last_success: float | None = None

    def feed_status(self, now: float) -> FeedStatus:
        return FeedStatus(
            feed=self.feed,
            outcome=self.outcome,
            ok=self.outcome in SUCCESS,
            status=self.status,
            error=self.error,
            consecutive_errors=self.consecutive_errors,
            new=self.new,
            updated=self.updated,
            checked_at=datetime.fromtimestamp(now, UTC),
            last_success=None if self.last_success is None else datetime.fromtimestamp(self.last_success, UTC),
        )


def interleave_by_host(states: Iterable[FeedState]) -> list[FeedState]:
    """Round-robin over hosts, so a host with many feeds does not hold every worker."""
    queues: dict[str, deque[FeedState]] = defaultdict(deque)
    for state in states:
        queues[(urlsplit(state.url).hostname or "").lower()].append(state)
    ordered: list[FeedState] = []
    while queues:
        for host in list(queues):
            ordered.append(queues[host].popleft())
            if not queues[host]:
                del queues[host]
    return ordered


def item_time(article: Article, now: float) -> float:
    """When an item appeared, for the publishing rate: its date, unless absent or in the future."""
    if article.published is not None:
        published = article.published.timestamp()
        if published <= now + 3600:
            return published
    return now


def fit_for_broker(article: Article, max_chars: int) -> Article:
    """``article`` with its text and summary cut to ``max_chars`` (the same object when both
    fit). Its ``content_hash`` stays what the feed said, so the next poll compares alike."""
    if len(article.text) <= max_chars and len(article.summary) <= max_chars:
        return article
    return article.derive(text=article.text[:max_chars], summary=article.summary[:max_chars])


class Poller:
    """Polls this replica's share of the configured feeds and publishes what is new."""

    def __init__(
        self,
        settings: Settings,
        feeds: Sequence[FeedConfig],
        publisher: Publisher,
        store: FeedStateStore,
        metrics: Metrics,
        clock: Callable[[], float] = time.time,
        *,
        resolver=None,
        rng: random.Random | None = None,
    ):
        self.settings = settings
        self.feeds = owned_by(feeds, settings.poller_replica, settings.poller_replicas)
        self.by_name = {feed.name: feed for feed in self.feeds}
        self.publisher = publisher
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.policy = ScheduleLimits.from_settings(settings)
        self.resolver = resolver
        self.rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        #: The longest sleep between rounds, and the wait after a round that failed.
        self.idle_s = 30.0
        for name in store.sync((feed.name, feed.url) for feed in self.feeds):
            log.info("feed %s: configured URL changed; its state starts afresh", name)
        self.metrics.feed_freshness.known(
            [feed.name for feed in self.feeds],
            errors={feed.name: store.load(feed.name, feed.url).consecutive_errors for feed in self.feeds},
        )

    def interval(self, feed: FeedConfig) -> float:
        return feed.interval_s or self.settings.poll_interval_s

    async def __aenter__(self) -> Poller:
        if self._session is None:
            self._session = make_session(self.settings, resolver=self.resolver)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run_once(self, *, only_due: bool = False) -> list[PollReport]:
        """Poll every due feed (or every feed that is not gone) once, within the limits."""
        now = self.clock()
        states = [s for s in self.store.due(now if only_due else float("inf")) if s.name in self.by_name]
        if states:
            self.metrics.poll_lag_seconds.set(max(0.0, now - min(s.next_due for s in states)) if only_due else 0.0)
        if not states:
            return []
        opened = self._session is None
        if opened:
            await self.__aenter__()
        try:
            session = self._session
            limit = asyncio.Semaphore(self.settings.poll_concurrency)
            host_limits: dict[str, asyncio.Semaphore] = {}  # per round: semaphores belong to one event loop

            async def guarded(state: FeedState) -> PollReport:
                host = (urlsplit(state.url).hostname or "").lower()
                host_limit = host_limits.setdefault(host, asyncio.Semaphore(self.settings.http_per_host_limit))
                async with host_limit, limit:  # the host's turn first, then a global slot
                    return await self.poll_feed(session, self.by_name[state.name], state)

            reports = list(await asyncio.gather(*(guarded(s) for s in interleave_by_host(states))))
        finally:
            if opened:
                await self.__aexit__()
        self._count_statuses()
        try:
            await self.publisher.report_feeds([report.feed_status(self.clock()) for report in reports])
        except Exception as exc:  # the health page goes stale; polling and articles go on
            log.warning("feed statuses not published: %s: %s", type(exc).__name__, exc)
        return reports

    def _count_statuses(self) -> None:
        counts = self.store.status_counts()
        for status in FEED_STATUSES:
            self.metrics.feeds.labels(status).set(counts.get(status, 0))

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Poll due feeds until ``stop`` is set; sleep until the next one is due."""
        async with self:
            while not stop.is_set():
                try:
                    await self.run_once(only_due=True)
                    upcoming = self.store.next_due()
                except Exception:
                    # The poll state could not be read or saved (disk full, an I/O error): the
                    # round is logged and tried again, the daemon does not exit over it.
                    log.exception("poll round failed; trying again in %.0f s", self.idle_s)
                    upcoming = None
                delay = self.idle_s if upcoming is None else upcoming - self.clock()
                try:
                    await asyncio.wait_for(stop.wait(), timeout=min(max(delay, 0.2), self.idle_s))
                except TimeoutError:
                    pass

    async def poll_feed(self, session, feed: FeedConfig, state: FeedState | None = None) -> PollReport:
        """Fetch, parse and publish one feed, then schedule its next poll; never raises."""
        state = state or self.store.load(feed.name, feed.url)
        state.last_attempt = self.clock()
        hints: dict[str, float | None] = {}
        try:
            report = await self._poll(session, feed, state, hints)
        except Exception as exc:
            log.exception("feed %s: unexpected error", feed.name)
            report = PollReport(feed.name, "network_error", error=f"{type(exc).__name__}: {exc}")
        now = self.clock()
        success = report.outcome in SUCCESS
        state.consecutive_errors = 0 if success else state.consecutive_errors + 1
        state.last_error = None if success else report.error
        if report.outcome == "parse_error":
            state.parse_errors += 1
        elif success:
            state.parse_errors = 0
        if success:
            state.last_success = now
        self.metrics.feed_freshness.polled(feed.name, success, now)
        plan = self._plan(feed, state, report.outcome, hints, now)
        self._note_status(feed, state, plan, report)
        state.status = plan.status
        state.next_due = now + next_delay(plan, self.policy.jitter, self.rng)
        report.delay_s, report.reason, report.status = plan.delay_s, plan.reason, plan.status
        report.consecutive_errors, report.last_success = state.consecutive_errors, state.last_success
        self.store.save(state)
        self.metrics.feed_polls.labels(feed.name, report.outcome).inc()
        return report

    def _plan(self, feed: FeedConfig, state: FeedState, outcome: str, hints: dict, now: float) -> Plan:
        rate = weekly_items(state.item_times, now) if state.last_success is not None else None
        return plan_next(
            Signals(
                interval_s=self.interval(feed),
                outcome=outcome,
                consecutive_errors=state.consecutive_errors,
                parse_errors=state.parse_errors,
                retry_after_s=hints.get("retry_after_s"),
                cache_lifetime_s=hints.get("cache_lifetime_s"),
                ttl_s=state.ttl_s,
                items_per_week=rate,
            ),
            self.policy,
        )

    def _note_status(self, feed: FeedConfig, state: FeedState, plan: Plan, report: PollReport) -> None:
        if report.outcome not in SUCCESS:
            log.warning(
                "feed %s: %s: %s (next try in %.0f s: %s)", feed.name, report.outcome, report.error, plan.delay_s, plan.reason
            )
        if plan.status != state.status:
            if plan.status == BROKEN:
                log.error("feed %s marked broken: %s; retried every %.0f s", feed.name, plan.reason, plan.delay_s)
            elif plan.status == GONE:
                log.error("feed %s is gone (HTTP 410); not polled again until its URL changes in feeds.yaml", feed.name)
            else:
                log.info("feed %s is %s again", feed.name, plan.status)

    async def _poll(self, session, feed: FeedConfig, state: FeedState, hints: dict) -> PollReport:
        result: FetchResult = await fetch(session, state.url, self.settings, etag=state.etag, last_modified=state.last_modified)
        self.metrics.fetch_seconds.observe(result.seconds)
        now = self.clock()
        hints["retry_after_s"] = retry_after_s(result.headers.get("retry-after"), now)
        hints["cache_lifetime_s"] = cache_lifetime_s(result.headers, now)
        if result.outcome not in SUCCESS:
            return PollReport(feed.name, result.outcome, error=result.error)
        if result.moved_to:
            log.info("feed %s moved permanently to %s", feed.name, result.moved_to)
            state.url = result.moved_to
        if result.outcome == "not_modified":
            return PollReport(feed.name, "not_modified")
        spans = item_spans(result.body)
        digests = None if spans is None else [item_digest(result.body[a:b]) for a, b in spans]
        unchanged = []
        if spans is not None and state.item_digests:
            unchanged = [span for span, digest in zip(spans, digests or []) if digest in state.item_digests]
        if spans and len(unchanged) == len(spans):
            parsed = None  # a new ETag, the same items: nothing to parse
        else:
            parsed = self._parse(feed, result, without_spans(result.body, unchanged) if unchanged else result.body)
            if parsed.unusable and unchanged:
                parsed = self._parse(feed, result, result.body)  # judge the whole document, not our cut
            if parsed.unusable:
                return PollReport(feed.name, "parse_error", error=parsed.error or "not an RSS or Atom feed")
            state.ttl_s = parsed.ttl_minutes * 60.0 if parsed.ttl_minutes else None
        articles = parsed.articles if parsed else []
        known = self.store.known_hashes(feed.name, [a.id for a in articles])
        fresh = [a for a in articles if a.id not in known]
        changed = [a for a in articles if a.id in known and known[a.id] != a.content_hash]
        outgoing = fresh + [a.derive(updated=True) for a in changed]
        if outgoing and feed.full_text:
            outgoing = await enrich(session, outgoing, self.settings, self.metrics)
        outgoing = [self._fit(feed, article) for article in outgoing]
        if outgoing:
            try:
                await self.publisher.publish(outgoing)
            except Exception as exc:
                return PollReport(feed.name, "publish_error", error=f"broker did not take the items: {exc}")
            # content_hash is what the feed said (full text does not enter it), so the next
            # poll compares like with like.
            self.store.mark_sent(feed.name, [(a.id, a.content_hash) for a in outgoing])
            self.metrics.articles.labels("polled").inc(len(outgoing))
        # Validators only once the items are safely published: a failed publish must refetch.
        state.etag = result.etag
        state.last_modified = result.last_modified
        state.item_times = state.item_times + [item_time(a, now) for a in fresh]
        state.item_digests = None if digests is None else frozenset(digests)
        return PollReport(feed.name, "ok", new=len(fresh), updated=len(changed))

    def _fit(self, feed: FeedConfig, article: Article) -> Article:
        fitted = fit_for_broker(article, self.settings.max_article_chars)
        if fitted is not article:
            self.metrics.articles.labels("cut").inc()
            log.warning(
                "feed %s: article %s cut to %d characters to fit the broker (text was %d, summary %d)",
                feed.name, article.id, self.settings.max_article_chars, len(article.text), len(article.summary),
            )  # fmt: skip
        return fitted

    def _parse(self, feed: FeedConfig, result: FetchResult, body: bytes):
        parsed = parse_feed(body, feed_name=feed.name, source=feed.source, headers=result.headers, url=result.url)
        for cause in parsed.skipped:
            self.metrics.articles.labels("unreadable").inc()
            log.warning("feed %s: an item could not be read and was left out: %s", feed.name, cause)
        if parsed.refused_entities:
            self.metrics.entities_refused.inc(parsed.refused_entities)
            log.warning(
                "feed %s: %d entity declarations removed before parsing (external, nested or too large to expand)",
                feed.name,
                parsed.refused_entities,
            )
        return parsed
