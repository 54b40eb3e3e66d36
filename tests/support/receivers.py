"""Real loopback HTTP receivers for the delivery tests: a Slack-like one and a webhook one.

Both are stdlib ``ThreadingHTTPServer``s on 127.0.0.1 that record every request. The
Slack receiver enforces Slack's rules the way Slack does: too fast → 429 with
Retry-After, a payload over the limits → 400; it also counts any request that arrived
before a Retry-After it gave had expired. The webhook receiver verifies each request
with the ``standardwebhooks`` library.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from monitor.sinks.slack_message import limit_problems


@dataclass
class Request:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0

    def json(self):
        return json.loads(self.body)


class _Server:
    """A loopback HTTP server calling ``self.answer(request)`` for every POST."""

    def __init__(self):
        outer = self
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        #: Seconds each of the next requests is held before it counts as arrived.
        self.stalls: list[float] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                with outer.lock:
                    stall = outer.stalls.pop(0) if outer.stalls else 0.0
                time.sleep(stall)  # held up on the way: the request reaches the receiver late
                request = Request(
                    time.monotonic(), self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)
                )
                time.sleep(getattr(outer, "delay_s", 0.0))  # a slow receiver keeps deliveries in flight
                with outer.lock:
                    status, body, headers = outer.answer(request)
                    request.status = status
                    outer.requests.append(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                data = body.encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, request: Request) -> tuple[int, str, dict[str, str]]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Scripted:
    """Answers to give before the receiver's normal behaviour: (status, body, headers)."""

    answers: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)

    def next(self):
        return self.answers.pop(0) if self.answers else None


class SlackReceiver(_Server):
    """Accepts at most one message per ``min_interval_s``, like a Slack incoming webhook."""

    def __init__(self, min_interval_s: float = 1.0, script: list | None = None, tolerance_s: float = 0.02):
        super().__init__()
        self.min_interval_s = min_interval_s
        self.tolerance_s = tolerance_s
        self.script = Scripted(list(script or []))
        self.last_accepted = -1e9
        self.quiet_until = -1e9
        #: Requests that came before a Retry-After we gave had expired.
        self.early = 0
        #: Requests that came faster than the allowed rate.
        self.too_fast = 0
        self.invalid: list[list[str]] = []

    def answer(self, request: Request):
        now = request.at
        if now < self.quiet_until - self.tolerance_s:
            self.early += 1
            return 429, "rate_limited", {"Retry-After": str(max(1, round(self.quiet_until - now)))}
        scripted = self.script.next()
        if scripted is not None:
            status, body, headers = scripted
            if status == 429:
                self.quiet_until = now + float(headers.get("Retry-After", "1"))
            return status, body, headers
        if now - self.last_accepted < self.min_interval_s - self.tolerance_s:
            self.too_fast += 1
            self.quiet_until = now + 1
            return 429, "rate_limited", {"Retry-After": "1"}
        problems = limit_problems(request.json())
        if problems:
            self.invalid.append(problems)
            return 400, "invalid_blocks", {}
        self.last_accepted = now
        return 200, "ok", {}

    def accepted(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.status == 200]

    def alert_ids(self) -> list[str]:
        """The alert id each accepted message names (its context block carries it)."""
        ids = []
        for request in self.accepted():
            for block in request.json()["blocks"]:
                for element in block.get("elements", []):
                    text = element.get("text", "")
                    if isinstance(text, str) and text.startswith("alert `"):
                        ids.append(text.split("`")[1])
        return ids


class WebhookReceiver(_Server):
    """Verifies every request with the standardwebhooks library; ``fail`` scripts answers."""

    def __init__(
        self, secret: str, fail: Callable[[Request], tuple[int, str, dict[str, str]] | None] | None = None, delay_s: float = 0.0
    ):
        super().__init__()
        self.verifier = Webhook(secret)
        self.delay_s = delay_s
        self.fail = fail
        self.verified: list[Request] = []
        self.rejected: list[tuple[Request, str]] = []

    def answer(self, request: Request):
        try:
            self.verifier.verify(request.body, request.headers)
        except WebhookVerificationError as exc:
            self.rejected.append((request, str(exc)))
            return 401, "bad signature", {}
        self.verified.append(request)
        scripted = self.fail(request) if self.fail else None
        return scripted or (200, "thanks", {})

    def delivered(self) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300]

    def unique_ids(self) -> set[str]:
        """Receiver-side deduplication by webhook-id."""
        return {r.headers["webhook-id"] for r in self.delivered()}
