"""Memory sink: keeps alerts in a list. A real sink, used by tests and ``replay`` tooling."""

from __future__ import annotations

from monitor.models import Alert
from monitor.sinks.base import Sink, SinkConfig, register


@register("memory")
class MemorySink(Sink):
    def __init__(self, config: SinkConfig, **kwargs):
        super().__init__(config, **kwargs)
        self.alerts: list[Alert] = []
        #: Each digest as it was delivered.
        self.batches: list[list[Alert]] = []

    async def send(self, alert: Alert) -> None:
        self.alerts.append(alert)

    async def send_batch(self, alerts: list[Alert]) -> None:
        self.batches.append(list(alerts))
        self.alerts.extend(alerts)
