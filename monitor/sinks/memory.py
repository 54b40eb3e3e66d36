"""Memory sink: keeps alerts in a list. A real sink, used by tests and ``replay`` tooling."""

from __future__ import annotations

from monitor.models import Alert
from monitor.sinks.base import Sink, SinkConfig, register


@register("memory")
class MemorySink(Sink):
    def __init__(self, config: SinkConfig, **kwargs):
        super().__init__(config, **kwargs)
        self.alerts: list[Alert] = []

    async def send(self, alert: Alert) -> None:
        self.alerts.append(alert)
