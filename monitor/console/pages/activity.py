"""Activity: relevant articles and alerts per day by topic, and the near misses."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from monitor.console import queries
from monitor.console.chart import bar_chart, days_between
from monitor.console.context import console_of
from monitor.settings import CONSOLE_ACTIVITY_DAYS as DAYS


async def page(request: Request) -> HTMLResponse:
    console = console_of(request)
    found = await run_in_threadpool(queries.activity, console.model, DAYS)
    days = days_between(found["start"], found["end"])
    charts = {
        topic: {kind: bar_chart(dict(series[kind]), days, width=540, height=50) for kind in ("articles", "alerts")}
        for topic, series in found["series"].items()
    }
    return console.page(request, "activity.html", activity=found, charts=charts)
