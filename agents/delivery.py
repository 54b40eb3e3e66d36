"""Deliver agent: the outbox (alerts topic) → every configured sink, each alert once.

The ledger table remembers (alert id, sink) pairs already delivered, so a restart or a
rebalance that replays the alerts topic does not deliver them again.
"""

from __future__ import annotations

import logging
import time

import faust

from agents.context import WorkerContext
from agents.deadletters import dead_letter_event, dead_letter_record
from monitor.models import Alert
from monitor.sinks import DeliveryError

log = logging.getLogger(__name__)


def register(app: faust.App, topics, ctx: WorkerContext) -> None:
    metrics = ctx.metrics
    ledger = app.Table("deliveries", default=None, partitions=ctx.settings.partitions, key_type=str, value_type=None)
    started: set[str] = set()

    @app.agent(topics.alerts, name="deliver")
    async def deliver(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                alert = Alert.loads(event.value, serializer="json")
            except Exception as exc:  # noqa: BLE001
                await dead_letter_event(topics, ctx, "deliver", "undecodable", exc, event)
                continue
            for sink in ctx.sinks:
                entry = f"{alert.id}|{sink.name}"
                if ledger.get(entry) is not None:
                    metrics.deliveries.labels(sink.type_name, "duplicate_skipped").inc()
                    continue
                if sink.name not in started:
                    await sink.start()
                    started.add(sink.name)
                began = time.perf_counter()
                try:
                    await sink.send(alert)
                except DeliveryError as exc:
                    metrics.deliveries.labels(sink.type_name, "failed").inc()
                    await dead_letter_record(
                        topics, ctx, "deliver", "delivery_failed", f"{sink.name}: {exc.reason}",
                        key=alert.id, payload=alert, message=event.message,
                    )
                    continue
                metrics.delivery_seconds.labels(sink.type_name).observe(time.perf_counter() - began)
                metrics.deliveries.labels(sink.type_name, "delivered").inc()
                ledger[entry] = time.time()
