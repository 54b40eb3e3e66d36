"""Timers that outlive their own failures.

Faust runs each ``@app.timer`` as an app task, and mode crashes the whole worker when a task
raises: one transient producer error in the delivery tick (a broker being replaced, a
timeout) would restart the worker, and with it every agent. A timer's work is repeated at
its next run anyway, so a failure is counted, logged with its cause and left to that run.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from agents.context import WorkerContext

log = logging.getLogger(__name__)

Timer = Callable[[], Awaitable[None]]


def survives(name: str, ctx: WorkerContext) -> Callable[[Timer], Timer]:
    """Wrap a timer's body: an ``Exception`` is counted in ``newsmon_timer_errors_total`` and
    logged; cancellation (the worker stopping) still goes through."""

    def wrap(fun: Timer) -> Timer:
        @functools.wraps(fun)
        async def guarded() -> None:
            try:
                await fun()
            except Exception as exc:
                ctx.metrics.timer_errors.labels(name).inc()
                log.warning("timer %s failed, tried again at its next run: %s: %s", name, type(exc).__name__, exc)

        return guarded

    return wrap
