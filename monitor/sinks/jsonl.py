"""JSONL sink: one JSON object per alert appended to a file (for scripts and audits)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from monitor.models import Alert
from monitor.replay import plain
from monitor.sinks.base import DeliveryError, Sink, SinkConfig, register


class JsonlConfig(SinkConfig):
    path: Path = Path("data/alerts.jsonl")


@register("jsonl")
class JsonlSink(Sink):
    config_model = JsonlConfig

    async def start(self) -> None:
        self.config.path.parent.mkdir(parents=True, exist_ok=True)

    async def send(self, alert: Alert) -> None:
        line = json.dumps(plain(json.loads(alert.dumps(serializer="json"))), ensure_ascii=False) + "\n"
        try:
            await asyncio.to_thread(self._append, line)
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.config.path}: {exc.strerror or exc}") from exc

    def _append(self, line: str) -> None:
        with self.config.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
