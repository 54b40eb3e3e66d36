"""Console sink: one readable block per alert on standard output."""

from __future__ import annotations

import sys
from typing import TextIO

from monitor.models import Alert
from monitor.sinks.base import Sink, SinkConfig, modality_label, register


def _plain(text: str) -> str:
    return " ".join(text.split()).rstrip(".!?…:;").casefold()


def distinct_evidence(alert: Alert, *, limit: int) -> list[str]:
    """Evidence sentences that say something the lines above do not: the title, which a
    feed's text often repeats as its first sentence, and a lede repeated as a paragraph."""
    shown = {_plain(alert.headline)}
    sentences: list[str] = []
    for item in alert.evidence:
        if _plain(item.sentence) not in shown and len(sentences) < limit:
            shown.add(_plain(item.sentence))
            sentences.append(item.sentence)
    return sentences


def render(alert: Alert) -> str:
    """The alert as a few lines of text an analyst can read at a glance."""
    kind = "NEW STORY" if alert.kind == "new" else "ESCALATION"
    head = [kind, modality_label(alert), ", ".join(alert.topics) or "-", " / ".join(alert.actors)]
    lines = [
        "━━ newsmon alert · " + " · ".join(part for part in head if part),
        f"   {alert.headline}",
    ]
    for sentence in distinct_evidence(alert, limit=2):
        lines.append(f"   » {sentence}")
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
