"""Timers that measure the worker itself: its heartbeat and its consumer lag.

Lag is the broker's log-end offset minus the offset the group committed, for each
partition of a source topic (articles, tagged, alerts) this worker owns. Faust's sensor
records the end offset only when records are fetched, so a worker that stopped fetching
would show a frozen lag; asking the broker on a timer shows the lag still growing.
"""

from __future__ import annotations

import logging
from typing import cast

import faust
from faust.transport.consumer import Consumer

from agents.context import WorkerContext
from monitor.runtime.health import BEAT_INTERVAL_S

log = logging.getLogger(__name__)


def partition_lag(log_end: int | None, committed: int | None, log_start: int | None) -> int | None:
    """Messages not processed yet: from the committed offset (or the log start, if the group
    committed nothing) up to the log end; None when the log end is unknown."""
    if log_end is None:
        return None
    start = committed if committed is not None else (log_start or 0)
    return max(0, log_end - start)


def register(app: faust.App, topics, ctx: WorkerContext) -> None:
    sources = {ctx.names.articles, ctx.names.tagged, ctx.names.alerts}

    @app.timer(BEAT_INTERVAL_S, name="heartbeat")
    async def heartbeat() -> None:
        ctx.metrics.health.beat()

    @app.timer(ctx.settings.lag_interval_s, name="consumer_lag")
    async def measure_lag() -> None:
        consumer = cast(Consumer, app.consumer)  # Faust's implementation, for its _committed_offset
        owned = [tp for tp in consumer.assignment() if tp.topic in sources]
        # Faust's own record of what it committed (also read by its livelock detector);
        # after a rebalance it holds the group's committed offsets it sought to.
        committed = {tp: consumer._committed_offset.get(tp) for tp in owned}
        try:
            log_ends = await consumer.highwaters(*owned) if owned else {}
            never = [tp for tp in owned if committed[tp] is None]
            log_starts = await consumer.earliest_offsets(*never) if never else {}
        except Exception as exc:
            log.warning("consumer lag not measured: %s: %s", type(exc).__name__, exc)
            return
        lag = {}
        for tp in owned:
            value = partition_lag(log_ends.get(tp), committed[tp], log_starts.get(tp))
            if value is not None:
                lag[(tp.topic, tp.partition)] = value
        ctx.metrics.consumer_lag.update(lag)
