"""The console's Starlette application: routes, the security middlewares, the context."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from monitor.console.context import Console
from monitor.console.follow import Vitals
from monitor.console.routes import ROUTES
from monitor.console.security import Csrf, SecurityHeaders, TokenGate
from monitor.console.store import ReadModel
from monitor.settings import Settings


def create_app(
    settings: Settings,
    model: ReadModel,
    *,
    vitals: Vitals | None = None,
    route_for: Callable[[set[str]], str] | None = None,
    host: str | None = None,
) -> Starlette:
    """The console on ``model``; ``host`` is the address it is bound to (the token gate's rule)."""
    console = Console(settings, model, vitals or Vitals(), route_for or (lambda actors: ""))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        console.close()

    async def not_found(request: Request, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("not found", 404)

    app = Starlette(
        routes=ROUTES,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TokenGate, host=host or settings.console_host, token=settings.console_token.get_secret_value()),
            Middleware(Csrf),
        ],
        exception_handlers={404: not_found},
        lifespan=lifespan,
    )
    app.state.console = console
    return app
