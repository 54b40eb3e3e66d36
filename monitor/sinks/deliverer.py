"""Delivering alerts to sinks: ledger, retries, digests, dead letters.

The state is two tables the worker keeps in Kafka changelogs (plain dicts in tests):

* ``ledger`` — ``"{alert id}|{sink}"`` → what came of it (``monitor.sinks.ledger``).
  Consulted before every send, written right after one and made durable (``persist``)
  before the next, so a restart or a rebalance that replays the alerts topic sends
  nothing twice except the one send in flight when a worker died. ``ref`` keeps what a
  sink returned (a Slack message ts) for threading. A *prune* task deletes a partition's
  entries older than ``ledger_retention_s``.
* ``pending`` — same key → a ``DeliveryTask`` waiting for its ``not_before``: a retry or
  a digest entry. Nothing sleeps: a timer sends a *tick* to the partitions that have
  due entries and the tick's handler delivers them. So a webhook backing off for two
  hours holds one table entry, not an agent, and other alerts and sinks go on.

Every write happens while a Faust agent handles a message of the same partition (the
alerts topic or the co-partitioned delivery-retries topic), as Faust tables require.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass

from monitor.models import Alert, DeliveryTask
from monitor.runtime.metrics import Metrics
from monitor.sinks.backoff import GiveUp, after_failure, digest_due, partition_for_sink
from monitor.sinks.base import DeliveryError, EndpointThrottled, Sink
from monitor.sinks.ledger import BELOW_MIN_SEVERITY, DEAD, DELIVERED, entry, ledger_key, ledger_state, prune

log = logging.getLogger(__name__)

#: An operator resends a dead letter (``newsmon dlq resend``); "replay" was its old name,
#: still accepted from tasks already on the topic.
RESEND = "resend"
LEGACY_RESEND = "replay"
#: Delete this partition's ledger entries older than the retention (see ``ledger``).
PRUNE = "prune"

Schedule = Callable[[DeliveryTask], Awaitable[None]]
#: Waits until the table writes made so far are in the broker (the worker flushes its producer).
Persist = Callable[[], Awaitable[None]]
#: (reason, error, alert, sink name, attempts, partition)
DeadLetterFn = Callable[[str, str, Alert, str, int, int], Awaitable[None]]


def encode_task(task: DeliveryTask) -> str:
    return task.dumps(serializer="json").decode()


def decode_task(value) -> DeliveryTask:
    return DeliveryTask.loads(value.encode() if isinstance(value, str) else value, serializer="json")


def alert_of(task: DeliveryTask) -> Alert:
    """The alert of a pending entry (a task without one is refused before it is stored)."""
    if task.alert is None:
        raise ValueError(f"delivery task for sink {task.sink} carries no alert")
    return task.alert


@dataclass
class AttemptResult:
    """How one attempt (one alert, or one digest) went."""

    ref: str | None = None
    error: DeliveryError | None = None
    poison: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.poison is None


class Deliverer:
    """Delivers alerts to sinks once each, retrying without blocking, for one worker."""

    def __init__(
        self,
        sinks: list[Sink],
        ledger: MutableMapping,
        pending: MutableMapping,
        metrics: Metrics,
        *,
        partitions: int,
        schedule: Schedule,
        dead_letter: DeadLetterFn,
        tick_budget_s: float = 10.0,
        persist: Persist | None = None,
        ledger_retention_s: float = 30 * 86400,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ):
        self.sinks = {sink.name: sink for sink in sinks}
        self.ledger = ledger
        self.pending = pending
        self.metrics = metrics
        self.partitions = partitions
        self.schedule = schedule
        self.dead_letter = dead_letter
        self.tick_budget_s = tick_budget_s
        self.persist = persist
        self.ledger_retention_s = ledger_retention_s
        self.clock = clock
        self.rand = rand
        self._started: set[str] = set()
        self._start_lock = asyncio.Lock()

    # --- the outbox lane: first attempt of each alert ---------------------------------
    async def on_alert(self, alert: Alert, sink: Sink, partition: int) -> None:
        """Deliver ``alert`` (read from alerts partition ``partition``) to ``sink`` once."""
        key = ledger_key(alert.id, sink.name)
        if self.ledger.get(key) is not None:
            log.debug("%s is in the ledger for %s: not sent again", alert.id, sink.name)
            self.metrics.deliveries.labels(sink.type_name, "duplicate_skipped").inc()
            return
        if key in self.pending:
            # Read again (a restart, a rebalance) while its retry waits in the table: the retry
            # sends it, after its back-off; sending now too would ignore a Retry-After and
            # could race the tick into a duplicate that Slack cannot dedupe.
            log.debug("%s already waits for a retry to %s: not sent from the lane", alert.id, sink.name)
            self.metrics.deliveries.labels(sink.type_name, "duplicate_skipped").inc()
            return
        if not sink.config.accepts(alert):
            self._below_min_severity(sink, key)
            return
        if sink.digest:
            target = partition_for_sink(sink.name, self.partitions)
            due = digest_due(self.clock(), sink.config.digest_minutes)
            await self.schedule(DeliveryTask(op="schedule", sink=sink.name, alert=alert, not_before=due, partition=target))
            self.metrics.deliveries.labels(sink.type_name, "digest_queued").inc()
            return
        task = DeliveryTask(op="schedule", sink=sink.name, alert=alert, partition=partition)
        outcome = await self._attempt(sink, [alert], thread=self._thread_ref(alert, sink))
        await self._settle(sink, [(key, task)], outcome, in_table=False)

    # --- the delivery-retries topic: schedule, resend, tick ----------------------------
    async def on_task(self, task: DeliveryTask, partition: int) -> None:
        if task.op == "tick":
            await self.on_tick(partition)
        elif task.op == PRUNE:
            self.prune(partition)
        elif task.op in ("schedule", RESEND, LEGACY_RESEND):
            self._enqueue(task, partition)
        else:
            log.error("ignoring delivery task with unknown op %r", task.op)

    def _enqueue(self, task: DeliveryTask, partition: int) -> None:
        if task.alert is None:
            log.error("ignoring %s task without an alert for sink %s", task.op, task.sink)
            return
        key = ledger_key(task.alert.id, task.sink)
        state = ledger_state(self.ledger.get(key))
        if state == DELIVERED or (state is not None and task.op == "schedule"):
            # A schedule for an alert the ledger has settled is a re-read of the alerts
            # topic. The lane checks the ledger too, but a digest entry's ledger lives in the
            # digest's partition, which the lane (on the alert's partition) cannot read; an
            # operator's resend of a dead letter is the one way past a settled entry.
            self.metrics.deliveries.labels(self._type(task.sink), "duplicate_skipped").inc()
            return
        if task.op == "schedule" and key in self.pending:
            return  # the same retry scheduled again after a re-read of the topic: keep the one we have
        entry = DeliveryTask(
            op="schedule",
            sink=task.sink,
            alert=task.alert,
            attempt=0 if task.op != "schedule" else task.attempt,
            not_before=self.clock() if task.op != "schedule" else task.not_before,
            first_failed_at=task.first_failed_at,
            error=task.error,
            partition=partition,
        )
        self.pending[key] = encode_task(entry)

    async def on_tick(self, partition: int) -> None:
        """Deliver every entry of ``partition`` that is due, sinks side by side."""
        now = self.clock()
        due: dict[str, list[tuple[str, DeliveryTask]]] = {}
        for key, value in list(self.pending.items()):
            task = decode_task(value)
            if task.partition == partition and task.not_before <= now:
                due.setdefault(task.sink, []).append((key, task))
        await asyncio.gather(*(self._run_due(name, entries) for name, entries in due.items()))

    async def _run_due(self, sink_name: str, entries: list[tuple[str, DeliveryTask]]) -> None:
        sink = self.sinks.get(sink_name)
        if sink is None:
            for key, task in entries:
                await self._give_up(
                    sink_name, "unknown", key, task, "sink_removed", f"no sink named {sink_name} is configured", task.attempt
                )
            return
        fresh = []
        for key, task in entries:
            if ledger_state(self.ledger.get(key)) == DELIVERED:
                self._drop(key)
                self.metrics.deliveries.labels(sink.type_name, "duplicate_skipped").inc()
            elif not sink.config.accepts(alert_of(task)):
                # Queued (a retry, a digest entry, a resend) before min_severity was raised.
                self._below_min_severity(sink, key)
            else:
                fresh.append((key, task))
        if not fresh:
            return
        if sink.digest:
            outcome = await self._attempt(sink, [alert_of(task) for _, task in fresh], batch=True)
            await self._settle(sink, fresh, outcome, in_table=True)
            return
        deadline = time.monotonic() + self.tick_budget_s
        for key, task in sorted(fresh, key=lambda item: item[1].not_before):
            if time.monotonic() > deadline:
                break  # the rest stays due: the next tick carries on
            alert = alert_of(task)
            outcome = await self._attempt(sink, [alert], thread=self._thread_ref(alert, sink))
            await self._settle(sink, [(key, task)], outcome, in_table=True)

    # --- one attempt and its consequences ----------------------------------------------
    async def _attempt(self, sink: Sink, alerts: list[Alert], *, batch: bool = False, thread: str | None = None) -> AttemptResult:
        kind = sink.type_name
        try:
            await self._ensure_started(sink)
        except Exception as exc:
            # A sink that cannot start (its directory unwritable, a bad client setting) is an
            # attempt that failed: retried, then dead-lettered, never an escaping exception
            # that stops the agent with the event acked and the alert lost for this sink.
            log.warning("sink %s could not start: %s: %s", sink.name, type(exc).__name__, exc)
            self.metrics.delivery_attempts.labels(kind, "retryable").inc()
            return AttemptResult(error=DeliveryError(f"sink {sink.name} could not start: {type(exc).__name__}: {exc}"))
        began = time.perf_counter()
        try:
            if batch:
                await sink.send_batch(alerts)
                ref = None
            else:
                ref = await sink.deliver(alerts[0], thread)
        except EndpointThrottled as exc:
            self.metrics.delivery_attempts.labels(kind, "throttled").inc()
            return AttemptResult(error=exc)
        except DeliveryError as exc:
            self.metrics.delivery_attempts.labels(kind, "retryable" if exc.retryable else "rejected").inc()
            self.metrics.delivery_seconds.labels(kind).observe(time.perf_counter() - began)
            return AttemptResult(error=exc)
        except Exception as exc:
            log.exception("sink %s failed on alert %s", sink.name, alerts[0].id if alerts else "-")
            self.metrics.delivery_attempts.labels(kind, "error").inc()
            return AttemptResult(poison=exc)
        self.metrics.delivery_attempts.labels(kind, "ok").inc()
        self.metrics.delivery_seconds.labels(kind).observe(time.perf_counter() - began)
        return AttemptResult(ref=ref)

    async def _settle(
        self, sink: Sink, entries: list[tuple[str, DeliveryTask]], outcome: AttemptResult, *, in_table: bool
    ) -> None:
        now = self.clock()
        if outcome.ok:
            for key, _task in entries:
                self.ledger[key] = entry(DELIVERED, now, outcome.ref)
            # Durable before the next send: a crash after this re-sends nothing delivered.
            await self._persist()
        # One decision for the whole attempt: the entries of a failed digest are retried
        # together, so the window stays one message under one id, not one per alert.
        decision = None
        if outcome.error is not None and not isinstance(outcome.error, EndpointThrottled):
            decision = after_failure(
                max(task.attempt for _key, task in entries) + 1,
                now,
                retryable=outcome.error.retryable,
                retry_after_s=outcome.error.retry_after_s,
                delays=sink.config.retry_delays_s,
                jitter=sink.config.retry_jitter,
                rand=self.rand,
            )
        for key, task in entries:
            if outcome.ok:
                log.info("delivered %s to %s", alert_of(task).id, sink.name)
                self._drop(key)
                self.metrics.deliveries.labels(sink.type_name, "delivered").inc()
                created = alert_of(task).created_at
                if created is not None:
                    self.metrics.delivery_lag_seconds.labels(sink.type_name).observe(max(0.0, now - created.timestamp()))
                continue
            if outcome.poison is not None:
                message = f"{type(outcome.poison).__name__}: {outcome.poison}"
                await self._give_up(sink.name, sink.type_name, key, task, "sink_error", message, task.attempt + 1)
                continue
            error = outcome.error
            assert error is not None  # neither ok nor poisoned: the attempt failed with a DeliveryError
            if isinstance(error, EndpointThrottled):
                attempt, not_before = task.attempt, now + (error.retry_after_s or 1.0)
            else:
                assert decision is not None  # drawn above for every failure that is not a throttle
                if isinstance(decision, GiveUp):
                    await self._give_up(sink.name, sink.type_name, key, task, decision.reason, error.reason, decision.attempt)
                    continue
                attempt, not_before = decision.attempt, decision.not_before
            retry = DeliveryTask(
                op="schedule",
                sink=sink.name,
                alert=alert_of(task),
                attempt=attempt,
                not_before=not_before,
                first_failed_at=task.first_failed_at or now,
                error=error.reason,
                partition=task.partition,
            )
            log.warning(
                "delivery of %s to %s failed (attempt %d): %s; next try in %.1f s",
                alert_of(task).id,
                sink.name,
                attempt,
                error.reason,
                not_before - now,
            )
            self.metrics.deliveries.labels(sink.type_name, "retry_scheduled").inc()
            if in_table:
                self.pending[key] = encode_task(retry)
            else:
                await self.schedule(retry)

    async def _give_up(
        self, sink_name: str, kind: str, key: str, task: DeliveryTask, reason: str, error: str, attempts: int
    ) -> None:
        await self.dead_letter(reason, error, alert_of(task), sink_name, attempts, task.partition)
        self.ledger[key] = entry(DEAD, self.clock())
        await self._persist()
        self._drop(key)
        self.metrics.deliveries.labels(kind, "dead_lettered").inc()

    def _below_min_severity(self, sink: Sink, key: str) -> None:
        # Recorded so a re-read of the alerts topic finds it in the ledger instead of judging
        # again; not persisted at once: losing it only repeats this same cheap decision.
        log.debug("%s is below %s's min_severity %s: not sent", key, sink.name, sink.config.min_severity)
        self.ledger[key] = entry(BELOW_MIN_SEVERITY, self.clock())
        self._drop(key)
        self.metrics.deliveries.labels(sink.type_name, BELOW_MIN_SEVERITY).inc()

    def prune(self, partition: int) -> int:
        """Delete ``partition``'s ledger entries older than the retention (called while an
        event of that partition is handled); returns how many."""
        deleted, listed = prune(self.ledger, self.clock() - self.ledger_retention_s)
        if deleted:
            log.info("ledger partition %d: %d entries older than %.0f s deleted", partition, deleted, self.ledger_retention_s)
        self.metrics.ledger_pruned.inc(deleted)
        self.metrics.ledger_entries.set(listed - deleted)
        return deleted

    # --- small things ------------------------------------------------------------------
    async def _persist(self) -> None:
        if self.persist is not None:
            await self.persist()

    def _drop(self, key: str) -> None:
        if key in self.pending:
            del self.pending[key]

    def _thread_ref(self, alert: Alert, sink: Sink) -> str | None:
        if alert.kind != "escalation" or not alert.updates:
            return None
        first = self.ledger.get(ledger_key(alert.updates, sink.name))
        return first.get("ref") if isinstance(first, dict) else None

    def _type(self, sink_name: str) -> str:
        sink = self.sinks.get(sink_name)
        return sink.type_name if sink else "unknown"

    async def _ensure_started(self, sink: Sink) -> None:
        if sink.name in self._started:
            return
        async with self._start_lock:
            if sink.name not in self._started:
                await sink.start()
                self._started.add(sink.name)

    def due_partitions(self) -> set[int]:
        """Partitions whose pending entries are due: where the timer sends ticks."""
        now = self.clock()
        return {task.partition for task in map(decode_task, list(self.pending.values())) if task.not_before <= now}

    def pending_by_type(self) -> dict[str, int]:
        counts = {sink.type_name: 0 for sink in self.sinks.values()}
        for task in map(decode_task, list(self.pending.values())):
            kind = self._type(task.sink)
            counts[kind] = counts.get(kind, 0) + 1
        return counts
