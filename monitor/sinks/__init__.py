"""Stage 4, delivery: alerts in, messages at their destinations out.

Takes the ``Alert`` records of the outbox and delivers each once per sink: the deliverer
checks a ledger before every send, schedules retries with back-off (never sleeping), sends
digests, and dead-letters what cannot be delivered; operator tools list and resend dead
letters. Each destination (console, JSONL, Slack, signed webhooks, memory) is a small module
registered by type name. Importing this package registers every built-in sink type; it never
imports the NLP or offline stages (an import-linter contract checks it).
"""

from monitor.sinks import console, jsonl, memory, slack, webhook  # noqa: F401 - registration side effect
from monitor.sinks.base import SINK_TYPES, DeliveryError, EndpointThrottled, Sink, SinkConfig, build_sink, register
from monitor.sinks.config import load_sinks

__all__ = [
    "SINK_TYPES",
    "DeliveryError",
    "EndpointThrottled",
    "Sink",
    "SinkConfig",
    "build_sink",
    "register",
    "load_sinks",
]
