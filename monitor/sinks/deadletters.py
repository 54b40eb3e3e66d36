"""Dead letters: what a stage could not process, kept with its cause for an operator."""

from __future__ import annotations

from typing import Any

from monitor.models import DeadLetter, utcnow

MAX_PAYLOAD_CHARS = 512 * 1024


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "dumps"):
        return value.dumps(serializer="json").decode("utf-8", "replace")
    return str(value)


def dead_letter(
    stage: str,
    reason: str,
    error: str,
    *,
    key: Any = None,
    payload: Any = None,
    message: Any = None,
    attempts: int = 1,
    sink: str = "",
) -> DeadLetter:
    """A DeadLetter record; ``message`` (a faust Message) supplies topic, partition, offset."""
    return DeadLetter(
        stage=stage,
        reason=reason,
        error=error[:4000],
        key=_text(key)[:1000],
        payload=_text(payload)[:MAX_PAYLOAD_CHARS],
        topic=getattr(message, "topic", "") or "",
        partition=getattr(message, "partition", -1),
        offset=getattr(message, "offset", -1),
        attempts=attempts,
        failed_at=utcnow(),
        sink=sink,
    )
