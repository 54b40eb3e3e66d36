"""Deliver agents: the outbox (alerts topic) → every configured sink, each alert once.

* One lane agent per sink reads the alerts topic, so Slack's one message per second or
  a webhook's 15 s timeout never holds up the console or another endpoint. A lane makes
  the first attempt; a failure becomes a retry entry, never a sleep.
* ``deliver-retries`` reads the delivery-retries topic (co-partitioned with alerts):
  retry and digest entries go into the ``delivery-pending`` table, and *ticks* make it
  deliver the entries that are due.
* A timer sends a tick to each partition this worker owns whose entries are due, and
  another a prune task to each partition it owns: once the worker owns partitions, then
  every ``ledger_prune_interval_s``.

The logic is ``monitor.sinks.deliverer.Deliverer``; this module only wires it to Faust.
"""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import faust

from agents.context import WorkerContext
from agents.dead_letter import dead_letter_event
from agents.state import state_table
from agents.timers import survives
from monitor.models import Alert, DeliveryTask
from monitor.sinks import Sink
from monitor.sinks.deadletters import dead_letter
from monitor.sinks.deliverer import PRUNE, Deliverer, alert_of

log = logging.getLogger(__name__)

#: A tick not answered within this long is sent again (the worker that owned the
#: partition may have died with it).
TICK_RESEND_S = 30.0


def register(app: faust.App, topics, ctx: WorkerContext) -> None:
    settings = ctx.settings

    ledger = state_table(app, settings, "deliveries")
    pending = state_table(app, settings, "delivery-pending")

    async def schedule(task: DeliveryTask) -> None:
        await topics.delivery_retries.send(
            key=alert_of(task).id.encode(),
            value=task.dumps(serializer="json"),
            partition=task.partition,
        )

    async def give_up(reason: str, error: str, alert: Alert, sink: str, attempts: int, partition: int) -> None:
        log.error("deliver: dead-lettering alert %s for sink %s (%s): %s", alert.id, sink, reason, error)
        origin = SimpleNamespace(topic=ctx.names.alerts, partition=partition, offset=-1)
        letter = dead_letter("deliver", reason, error, key=alert.id, payload=alert, message=origin, attempts=attempts, sink=sink)
        ctx.metrics.dead_letters.labels("deliver", reason).inc()
        await topics.deadletter.send(key=alert.id.encode(), value=letter.dumps(serializer="json"))

    deliverer = Deliverer(
        ctx.sinks,
        ledger,
        pending,
        ctx.metrics,
        partitions=settings.partitions,
        schedule=schedule,
        dead_letter=give_up,
        tick_budget_s=settings.delivery_tick_budget_s,
        persist=lambda: app.producer.flush(),
        ledger_retention_s=settings.ledger_retention_s,
    )
    for index, sink in enumerate(ctx.sinks):
        _register_lane(app, topics, ctx, deliverer, sink, reports_poison=index == 0)

    ticks_sent: dict[int, float] = {}

    def owned() -> set[int]:
        """The delivery-retries partitions this worker owns now (where its tasks go)."""
        return {tp.partition for tp in app.consumer.assignment() if tp.topic == ctx.names.delivery_retries}

    @app.agent(topics.delivery_retries, name="deliver-retries")
    async def deliver_retries(stream: faust.StreamT) -> None:
        async for event in stream.events():
            partition = event.message.partition
            try:
                task = DeliveryTask.loads(event.value, serializer="json")
            except Exception as exc:
                await dead_letter_event(topics, ctx, "deliver", "undecodable", exc, event)
                continue
            if task.op == "tick":
                ticks_sent.pop(partition, None)
            await deliverer.on_task(task, partition)

    @app.timer(interval=settings.delivery_tick_s, name="delivery_tick")
    @survives("delivery_tick", ctx)
    async def tick() -> None:
        now = time.monotonic()
        for partition in sorted(deliverer.due_partitions() & owned()):
            if now - ticks_sent.get(partition, -TICK_RESEND_S) >= TICK_RESEND_S:
                ticks_sent[partition] = now
                await topics.delivery_retries.send(
                    key=b"tick", value=DeliveryTask(op="tick").dumps(serializer="json"), partition=partition
                )
        for kind, count in deliverer.pending_by_type().items():
            ctx.metrics.deliveries_pending.labels(kind).set(count)

    # Faust's timers sleep a whole interval before their first run, and the worker restarts at
    # every rotation of the embedded broker (hours apart under load): an hourly timer might
    # never fire. So the check runs at the tick's pace, and the first round goes out as soon
    # as the worker owns partitions, then one every ``ledger_prune_interval_s``.
    last_prune: list[float] = []

    @app.timer(interval=settings.delivery_tick_s, name="ledger_prune")
    @survives("ledger_prune", ctx)
    async def prune_ledger() -> None:
        partitions = owned()
        now = time.monotonic()
        if not partitions or (last_prune and now - last_prune[0] < settings.ledger_prune_interval_s):
            return
        # Each partition prunes its own entries while handling its own task: only there do
        # Faust's reads and deletions reach that partition's store and changelog.
        for partition in sorted(partitions):
            await topics.delivery_retries.send(
                key=b"prune", value=DeliveryTask(op=PRUNE).dumps(serializer="json"), partition=partition
            )
        last_prune[:] = [now]  # after the sends: after a failed one the round goes out again


def _register_lane(app: faust.App, topics, ctx: WorkerContext, deliverer: Deliverer, sink: Sink, *, reports_poison: bool) -> None:
    """One agent delivering the alerts topic to one sink."""

    async def lane(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                alert = Alert.loads(event.value, serializer="json")
            except Exception as exc:
                if reports_poison:  # one dead letter per poison message, not one per sink
                    await dead_letter_event(topics, ctx, "deliver", "undecodable", exc, event)
                continue
            await deliverer.on_alert(alert, sink, event.message.partition)

    app.agent(topics.alerts, name=f"deliver-{sink.name}")(lane)
