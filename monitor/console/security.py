"""Everything that keeps the console safe, in one place: headers, the token gate, CSRF.

Three ASGI middlewares, outermost first:

* ``SecurityHeaders`` puts the same headers on every response, the strict
  Content-Security-Policy above all (no inline script or style, nothing from elsewhere).
* ``TokenGate``: bound to loopback without a token, everyone on the machine may look; bound
  beyond loopback, the console needs a token (``serve`` refuses to start without one), and
  every request without a session cookie for it (or ``Authorization: Bearer``) is refused.
  The cookie holds an HMAC of the token, compared in constant time; HttpOnly, SameSite.
* ``Csrf``: every POST carries the token of its browser's CSRF cookie in its form
  (double-submit), or is refused before any handler runs.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
SESSION_COOKIE = "newsmon_session"
CSRF_COOKIE = "newsmon_csrf"
CSRF_FIELD = "csrf"
#: Larger form bodies are refused: the console's forms hold a few short fields.
MAX_FORM_BYTES = 64 * 1024
#: Paths a visitor without a session may reach when a token is configured (a probe's
#: ``/healthz`` says "ok" and nothing else).
OPEN_PATHS = ("/login", "/static/", "/healthz")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def loopback_host_header(value: str) -> bool:
    """Whether a Host header names this machine: localhost, a name under .localhost, or a
    loopback address, with or without a port ("127.0.0.1:8090", "[::1]:8090")."""
    host = value.strip().lower()
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else ""
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return host.endswith(".localhost") or is_loopback(host.rstrip("."))


def session_value(token: str) -> str:
    """What the session cookie holds for ``token``: it proves the token without carrying it."""
    return hmac.new(token.encode(), b"newsmon-console-session", hashlib.sha256).hexdigest()


def cookie_flags(scope: Scope) -> str:
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    return f"; Path=/; HttpOnly; SameSite=Strict{secure}"


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)


class TokenGate:
    def __init__(self, app: ASGIApp, *, host: str, token: str):
        self.app = app
        self.token = token
        self.open = is_loopback(host) and not token
        self.refuse_all = not is_loopback(host) and not token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.open:
            # Open on loopback, so a page elsewhere must not reach it through a name of its own
            # that resolves to 127.0.0.1 (DNS rebinding): it would read every page and post
            # feedback with the form's own CSRF token. Only loopback Host names are served.
            if loopback_host_header(Request(scope).headers.get("host", "")):
                await self.app(scope, receive, send)
            else:
                await PlainTextResponse("the console answers to a loopback host name only", 403)(scope, receive, send)
            return
        if self.refuse_all:
            await PlainTextResponse("the console is bound beyond loopback without a token", 403)(scope, receive, send)
            return
        request = Request(scope)
        if scope["path"].startswith(OPEN_PATHS) or self.admits(request):
            await self.app(scope, receive, send)
            return
        if request.method == "GET" and "text/event-stream" not in request.headers.get("accept", ""):
            await RedirectResponse("/login", 303)(scope, receive, send)
        else:
            await PlainTextResponse("a session is required", 401)(scope, receive, send)

    def admits(self, request: Request) -> bool:
        expected = session_value(self.token)
        cookie = request.cookies.get(SESSION_COOKIE, "")
        if cookie and hmac.compare_digest(cookie.encode(), expected.encode()):
            return True
        return token_matches(request.headers.get("authorization", "").removeprefix("Bearer ").strip(), self.token)


def token_matches(typed: str, token: str) -> bool:
    """Whether a token typed on the login page is the configured one (constant time)."""
    return bool(token) and hmac.compare_digest(typed.encode(), token.encode())


class Csrf:
    """Double-submit CSRF check: the form's ``csrf`` field must equal the CSRF cookie.

    The token is put on ``request.state.csrf`` for templates; a browser without the cookie
    gets one with its first response. The form body is read here and handed on unchanged.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        cookie = request.cookies.get(CSRF_COOKIE, "")
        token = cookie or secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf"] = token
        if request.method not in ("GET", "HEAD"):
            body = await _read_body(receive, MAX_FORM_BYTES)
            if body is None:
                await PlainTextResponse("form too large", 413)(scope, receive, send)
                return
            sent = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD, [""])[0]
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded" or not (
                cookie and sent and hmac.compare_digest(sent.encode(), cookie.encode())
            ):
                await PlainTextResponse("missing or wrong CSRF token", 403)(scope, receive, send)
                return
            receive = _replay(body)

        async def with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and not cookie:
                MutableHeaders(scope=message).append("Set-Cookie", f"{CSRF_COOKIE}={token}{cookie_flags(scope)}")
            await send(message)

        await self.app(scope, receive, with_cookie)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
