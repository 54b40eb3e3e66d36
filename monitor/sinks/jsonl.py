"""JSONL sink: one JSON object per alert appended to a file (for scripts and audits)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from monitor.models import Alert, record_json
from monitor.sinks.base import DeliveryError, Sink, SinkConfig, register


class JsonlConfig(SinkConfig):
    #: Relative paths are inside MONITOR_DATA_DIR.
    path: Path = Path("alerts.jsonl")


@register("jsonl")
class JsonlSink(Sink):
    config_model = JsonlConfig
    config: JsonlConfig

    @property
    def path(self) -> Path:
        return self.config.path if self.config.path.is_absolute() else self.data_dir / self.config.path

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

    async def send(self, alert: Alert) -> None:
        line = record_json(alert) + "\n"
        try:
            await asyncio.to_thread(self._append, line)
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
