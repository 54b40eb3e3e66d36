"""A real aiohttp server on a loopback port, running in its own thread and event loop.

For what pytest-httpserver's single-threaded werkzeug server does poorly: thousands of
concurrent requests, endless streams, a byte per second, several ports at once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web


class LoopbackServer:
    """``with LoopbackServer(app) as server: server.url("/path")``; every request is logged."""

    def __init__(self, app: web.Application | Callable[[web.Request], object], host: str = "127.0.0.1"):
        if not isinstance(app, web.Application):
            handler, app = app, web.Application()
            app.router.add_route("*", "/{tail:.*}", handler)
        self.app = app
        self.host = host
        self.port = 0
        self.requests: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    @web.middleware
    async def _record(self, request: web.Request, handler):
        self.requests.append(request.path_qs)
        return await handler(request)

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def __enter__(self) -> LoopbackServer:
        self.app.middlewares.append(self._record)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
