"""Precision: how often the alerts an analyst judged were right, per topic and rule."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from monitor.console.context import console_of
from monitor.console.precision import measure

WINDOWS = (7, 30, 90, 365)


async def page(request: Request) -> HTMLResponse:
    console = console_of(request)
    asked = request.query_params.get("days", "30")
    days = int(asked) if asked.isascii() and asked.isdigit() and int(asked) in WINDOWS else 30  # not "²"
    result = await run_in_threadpool(measure, console.model, days)
    return console.page(request, "precision.html", result=result, windows=WINDOWS)
