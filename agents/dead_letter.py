"""Routing a message a stage cannot process to the dead-letter topic, counted and logged."""

from __future__ import annotations

import logging

from agents.context import WorkerContext
from monitor.sinks.deadletters import dead_letter

log = logging.getLogger(__name__)


async def dead_letter_event(topics, ctx: WorkerContext, stage: str, reason: str, exc: Exception, event) -> None:
    """Send ``event``'s raw bytes with the cause to the dead-letter topic."""
    error = f"{type(exc).__name__}: {exc}"
    message = event.message
    log.error("%s: dead-lettering %s[%s]@%s (%s): %s", stage, message.topic, message.partition, message.offset, reason, error)
    letter = dead_letter(stage, reason, error, key=event.key, payload=event.value, message=message)
    ctx.metrics.dead_letters.labels(stage, reason).inc()
    await topics.deadletter.send(key=event.key, value=letter.dumps(serializer="json"))


async def dead_letter_record(
    topics, ctx: WorkerContext, stage: str, reason: str, error: str, *, key: str, payload, message=None
) -> None:
    """Send a decoded record that failed processing, with the cause, to the dead-letter topic."""
    log.error("%s: dead-lettering %s (%s): %s", stage, key, reason, error)
    letter = dead_letter(stage, reason, error, key=key, payload=payload, message=message)
    ctx.metrics.dead_letters.labels(stage, reason).inc()
    await topics.deadletter.send(key=key.encode(), value=letter.dumps(serializer="json"))
