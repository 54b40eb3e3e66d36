"""A story: the timeline of its articles and alerts, outlets, claims, why each alert fired."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse

from monitor.console import queries
from monitor.console.chart import bar_chart, days_between
from monitor.console.context import console_of


async def page(request: Request) -> HTMLResponse:
    console = console_of(request)
    story_id = request.path_params["story_id"][:64]
    found = await run_in_threadpool(queries.story, console.model, story_id)
    if found is None:
        return console.page(request, "missing.html", 404, what="story", key=story_id)
    days = days_between(found["per_day"][0][0], found["per_day"][-1][0]) if found["per_day"] else []
    chart = bar_chart(dict(found["per_day"]), days)
    return console.page(request, "story.html", story=found, chart=chart)
