"""The login page, when the console has a token: the token in, a session cookie out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from monitor.console.context import console_of
from monitor.console.security import SESSION_COOKIE, cookie_flags, session_value, token_matches


async def page(request: Request) -> HTMLResponse:
    return console_of(request).page(request, "login.html", failed=False)


async def post(request: Request) -> Response:
    console = console_of(request)
    token = console.settings.console_token.get_secret_value()
    form = await request.form()
    if not token_matches(str(form.get("token", "")), token):
        return console.page(request, "login.html", 403, failed=True)
    response = RedirectResponse("/", 303)
    response.headers.append("Set-Cookie", f"{SESSION_COOKIE}={session_value(token)}{cookie_flags(request.scope)}")
    return response
