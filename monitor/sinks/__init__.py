"""Alert sinks. Importing this package registers every built-in sink type."""

from monitor.sinks import console, jsonl, memory, slack, webhook  # noqa: F401 - registration side effect
from monitor.sinks.base import SINK_TYPES, DeliveryError, EndpointThrottled, Sink, SinkConfig, build_sink, register
from monitor.sinks.config import load_sinks

__all__ = [
    "SINK_TYPES", "DeliveryError", "EndpointThrottled", "Sink", "SinkConfig", "build_sink", "register", "load_sinks",
]
