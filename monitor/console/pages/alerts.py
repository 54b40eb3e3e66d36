"""The alerts page: newest first, filtered, kept live by ``events``."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from monitor.console import queries
from monitor.console.context import console_of


async def page(request: Request) -> HTMLResponse:
    console = console_of(request)
    where = queries.AlertFilter.from_query(request.query_params)
    rows = await run_in_threadpool(queries.alerts, console.model, where)
    options = await run_in_threadpool(queries.choices, console.model)
    latest = max((row["seq"] for row in rows), default=0)
    return console.page(request, "alerts.html", alerts=rows, where=where, options=options, latest=latest)
