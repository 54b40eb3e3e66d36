"""Health, for a person: feeds ok and failing with their last error, the worker's and the
console's lag, dead letters, the last alert, the read model's size and what it deleted."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse

from monitor.console import queries
from monitor.console.context import console_of


async def page(request: Request) -> HTMLResponse:
    console = console_of(request)
    counts = await run_in_threadpool(queries.counts, console.model)
    last = await run_in_threadpool(queries.last_alert, console.model)
    feeds = await run_in_threadpool(queries.feeds, console.model)
    vitals = console.vitals
    age = time.time() - vitals.measured_at if vitals.measured_at else None
    return console.page(
        request,
        "health.html",
        feeds=feeds,
        counts=counts,
        last=last,
        vitals=vitals,
        age=age,
        fts=console.model.fts,
        retention_days=console.settings.console_decision_retention_days,
    )


async def probe(request: Request) -> PlainTextResponse:
    """Liveness for a probe: the read model answers."""
    await run_in_threadpool(queries.counts, console_of(request).model)
    return PlainTextResponse("ok")
