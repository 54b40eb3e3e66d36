"""A worker timer that fails is counted, logged and run again; it never takes the worker down
(Faust crashes the worker when one of its tasks raises)."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

from agents.timers import survives
from monitor.runtime.metrics import Metrics


def test_a_failing_run_is_counted_and_logged_and_the_next_run_goes_ahead(caplog):
    ctx = SimpleNamespace(metrics=Metrics())
    runs = []

    @survives("delivery_tick", ctx)
    async def tick() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise TimeoutError("producer send timed out")

    async def two_runs() -> None:
        await tick()  # the first run raises inside: nothing comes out
        await tick()

    with caplog.at_level(logging.WARNING, logger="agents.timers"):
        asyncio.run(two_runs())
    assert runs == [0, 1]
    assert ctx.metrics.registry.get_sample_value("newsmon_timer_errors_total", {"timer": "delivery_tick"}) == 1
    assert "timer delivery_tick failed, tried again at its next run: TimeoutError: producer send timed out" in caplog.text
    assert tick.__name__ == "tick", "Faust names the timer after the function"


def test_cancellation_still_stops_the_timer():
    ctx = SimpleNamespace(metrics=Metrics())

    @survives("ledger_prune", ctx)
    async def prune() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(prune())
    assert ctx.metrics.registry.get_sample_value("newsmon_timer_errors_total", {"timer": "ledger_prune"}) is None
