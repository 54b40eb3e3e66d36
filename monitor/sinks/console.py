"""Console sink: one readable block per alert on standard output."""

from __future__ import annotations

import sys
from typing import TextIO

from monitor.models import Alert
from monitor.sinks.base import Sink, SinkConfig, modality_label, register


def render(alert: Alert) -> str:
    """The alert as a few lines of text an analyst can read at a glance."""
    kind = "NEW STORY" if alert.kind == "new" else "ESCALATION"
    head = [kind, modality_label(alert), ", ".join(alert.topics) or "-", " / ".join(alert.actors)]
    lines = [
        "━━ newsmon alert · " + " · ".join(part for part in head if part),
        f"   {alert.headline}",
    ]
    for item in alert.evidence[:2]:
        lines.append(f"   » {item.sentence}")
    seen = alert.first_seen.isoformat(timespec="seconds") if alert.first_seen else "-"
    lines.append(f"   source: {alert.source or '-'} · first seen: {seen} · outlets: {alert.corroboration}")
    if alert.url:
        lines.append(f"   {alert.url}")
    lines.append(f"   alert {alert.id} · story {alert.story_id} · rule {alert.rule}")
    return "\n".join(lines)


@register("console")
class ConsoleSink(Sink):
    def __init__(self, config: SinkConfig, *, data_dir=None, stream: TextIO | None = None):
        super().__init__(config, data_dir=data_dir)
        self.stream = stream

    async def send(self, alert: Alert) -> None:
        # The real stdout: the Faust worker redirects sys.stdout into its log as WARNING lines.
        stream = self.stream or sys.__stdout__ or sys.stdout
        stream.write(render(alert) + "\n")
        stream.flush()
