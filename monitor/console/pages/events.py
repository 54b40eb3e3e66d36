"""Server-sent events: each alert that reaches the read model, as its rendered table row.

The stream polls the read model (the consumer writes it from another thread) for alerts
newer than the last one sent, with the page's own filters. It closes after a while and
the browser's EventSource reconnects with ``Last-Event-ID``, so no stream lives forever.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from monitor.console import queries
from monitor.console.context import Console, console_of

POLL_S = 0.5
KEEPALIVE_S = 15.0


def _after(request: Request) -> int:
    for value in (request.headers.get("last-event-id", ""), request.query_params.get("after", "")):
        if value.isascii() and value.isdigit():  # "²" is a digit to isdigit, not to int
            return int(value)
    return 0


async def stream(request: Request) -> StreamingResponse:
    console = console_of(request)
    where = queries.AlertFilter.from_query(request.query_params)
    return StreamingResponse(
        _events(console, request, where, _after(request)),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


async def _events(console: Console, request: Request, where: queries.AlertFilter, after: int) -> AsyncIterator[str]:
    row_template = console.templates.get_template("_alert_row.html")
    closes = time.monotonic() + console.stream_s
    quiet_since = time.monotonic()
    yield "retry: 2000\n\n"
    while time.monotonic() < closes:
        # Oldest first, a page at a time: after a burst (a restart, a rebuild, a browser back
        # from sleep) every alert is sent, and the page stacks them newest on top.
        fresh = await run_in_threadpool(queries.alerts, console.model, where, after=after, oldest_first=True)
        for alert in fresh:
            after = max(after, alert["seq"])
            html = row_template.render(alert=alert, csrf=request.state.csrf, next="/")
            data = "".join(f"data: {line}\n" for line in html.splitlines())
            yield f"id: {alert['seq']}\nevent: alert\n{data}\n"
            quiet_since = time.monotonic()
        if time.monotonic() - quiet_since > KEEPALIVE_S:
            yield ": keepalive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_S)
