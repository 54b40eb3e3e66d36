"""The Faust app: topics declared in one place, agents registered from their modules.

``create_app`` builds everything from one Settings object; nothing happens at import
time, so tests and the CLI each create the app they need against their own broker.
"""

from __future__ import annotations

import logging
from typing import Any

import faust

from agents import at_least_once, deliver, detect, fetch_wait, state, tag, vitals
from agents.context import WorkerContext
from monitor.runtime.kafka_topics import KafkaTopicNames
from monitor.runtime.metrics import Metrics
from monitor.settings import Settings
from monitor.sinks import Sink, load_sinks
from monitor.watchlist import Watchlist, load_watchlist

log = logging.getLogger(__name__)


class KafkaTopics:
    """Every topic the worker reads or writes, as raw bytes: stages decode themselves so a
    message that does not decode is dead-lettered with its bytes instead of vanishing."""

    def __init__(self, app: faust.App, names: KafkaTopicNames):
        def topic(name: str) -> faust.TopicT:
            return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")

        self.articles = topic(names.articles)
        self.tagged = topic(names.tagged)
        self.decisions = topic(names.decisions)
        self.alerts = topic(names.alerts)
        self.deadletter = topic(names.deadletter)
        self.delivery_retries = topic(names.delivery_retries)
        self.feedback = topic(names.feedback)


def faust_settings(settings: Settings) -> dict:
    session = settings.effective_session_timeout_s
    return dict(
        broker=settings.faust_broker,
        # On disk by default (agents/state.py): a restart, even onto a fresh embedded
        # broker, starts from the tables as they were.
        store=f"{state.SCHEME}://" if settings.table_store == "rocksdb" else "memory://",
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        broker_session_timeout=session,
        broker_heartbeat_interval=max(0.5, session / 6),
        # The embedded broker has no idempotent producer; at-least-once plus idempotent
        # sinks is our delivery guarantee (see the README), never exactly_once.
        processing_guarantee="at_least_once",
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        table_standby_replicas=0,
        web_enabled=False,
        datadir=str(settings.data_dir / "faust"),
    )


def _configured_sources(settings: Settings) -> list[str]:
    """Outlet names from feeds.yaml, when the worker can read it (it needs it for nothing else)."""
    from monitor.configfile import ConfigError
    from monitor.ingest.feedlist import load_feeds

    try:
        return [feed.source for feed in load_feeds(settings.config_file("feeds.yaml")).enabled if feed.source]
    except (ConfigError, OSError) as exc:
        log.info("feeds.yaml not read (%s): per-outlet series start with their first article", exc)
        return []


def create_app(
    settings: Settings,
    *,
    watchlist: Watchlist | None = None,
    sinks: list[Sink] | None = None,
    metrics: Metrics | None = None,
) -> tuple[faust.App, WorkerContext]:
    """The worker app and the context its agents share."""
    if not settings.bootstrap_servers:
        raise ValueError("the worker needs a broker: set MONITOR_BROKER_URL (newsmon run starts one for you)")
    ctx = WorkerContext(
        settings=settings,
        watchlist=watchlist or load_watchlist(settings.config_file("watchlist.yaml")),
        sinks=sinks if sinks is not None else load_sinks(settings.config_file("sinks.yaml"), settings.data_dir),
        metrics=metrics or Metrics(),
        names=KafkaTopicNames.for_settings(settings),
    )
    (settings.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    at_least_once.install()  # Faust 0.15 could commit past events an agent never got (see the module)
    fetch_wait.install()  # Faust 0.15 waits 1.5 s per fetch, and Tansu does not cut the wait short
    state.install()
    app = faust.App(settings.app_id, **faust_settings(settings))
    # Stream internals (events, offsets, commit and send latency, rebalances) on the same
    # registry the worker serves; see Metrics.faust_monitor for why not Faust's web page.
    app.monitor = ctx.metrics.faust_monitor()
    ctx.metrics.expect_worker_series(
        [sink.type_name for sink in ctx.sinks],
        topics=list(ctx.watchlist.topics),
        pairs=[ctx.watchlist.route_for(set(pair)) for pair in ctx.watchlist.watch_pairs],
        sources=_configured_sources(settings),
        rules=[rule.name for rule in ctx.watchlist.rules],
    )
    topics = KafkaTopics(app, ctx.names)
    tag.register(app, topics, ctx)
    detect.register(app, topics, ctx)
    deliver.register(app, topics, ctx)
    vitals.register(app, topics, ctx)

    @app.on_before_shutdown.connect
    async def _stop_pool(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        ctx.tagpool.stop()
        for sink in ctx.sinks:
            await sink.close()

    return app, ctx
