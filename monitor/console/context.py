"""What every console handler shares: settings, the read model, templates, the producer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader
from kafka import KafkaProducer
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from monitor.console.follow import Vitals
from monitor.console.marks import segments
from monitor.console.store import ReadModel
from monitor.runtime.kafka_topics import KafkaTopicNames
from monitor.settings import Settings

HERE = Path(__file__).parent
#: Longest a feedback click waits for the broker before the page says it was not stored.
FEEDBACK_WAIT_S = 5


def link(url: str) -> str:
    """``url`` when it is an http(s) address to link to, else "" (a ``javascript:`` or
    ``data:`` URL from a feed is shown as text, never made a link)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def templates() -> Jinja2Templates:
    # autoescape=True for every template, whatever its name: feed text is never markup.
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["link"] = link
    env.filters["segments"] = segments
    return Jinja2Templates(env=env)


@dataclass
class Console:
    settings: Settings
    model: ReadModel
    vitals: Vitals
    #: Story route (the watched pair) for a set of actors; "" when the watchlist is unknown.
    route_for: Callable[[set[str]], str] = lambda actors: ""
    templates: Jinja2Templates = field(default_factory=templates)
    #: Seconds one server-sent event stream stays open before the browser reconnects.
    stream_s: float = 300.0
    _producer: KafkaProducer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def names(self) -> KafkaTopicNames:
        return KafkaTopicNames.for_settings(self.settings)

    def producer(self) -> KafkaProducer:
        """The producer of judgements: acks=all, and short waits, since a person is waiting."""
        with self._lock:
            if self._producer is None:
                self._producer = KafkaProducer(
                    bootstrap_servers=self.settings.bootstrap_servers,
                    client_id=f"{self.settings.app_id}-console",
                    acks="all",
                    enable_idempotence=False,  # the embedded broker has none; ids dedupe judgements
                    retries=2,
                    max_block_ms=FEEDBACK_WAIT_S * 1000,
                    request_timeout_ms=FEEDBACK_WAIT_S * 1000,
                    bootstrap_timeout_ms=FEEDBACK_WAIT_S * 1000,
                )
            return self._producer

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=5)

    def page(self, request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        values.setdefault("next", request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return self.templates.TemplateResponse(request, name, {"csrf": request.state.csrf, **values}, status_code=status)


def console_of(request: Request) -> Console:
    return request.app.state.console
