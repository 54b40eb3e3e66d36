"""The delivery core on real sinks, with plain dicts standing in for the two Faust tables
(the worker tests run the same code on the real tables and broker)."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from prometheus_client import CollectorRegistry

from monitor.runtime.metrics import Metrics
from monitor.sinks import Sink, SinkConfig
from monitor.sinks.backoff import (
    GiveUp,
    Retry,
    after_failure,
    backoff_s,
    digest_due,
    partition_for_sink,
)
from monitor.sinks.base import DeliveryError
from monitor.sinks.deliverer import Deliverer, decode_task
from monitor.sinks.memory import MemorySink
from monitor.sinks.webhook import WebhookConfig, WebhookSink
from tests.support.alerts import make_alerts
from tests.support.receivers import WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DELAYS = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0)


class Clock:
    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def deliverer_for(sinks, *, clock=None, partitions=4, rand=lambda: 0.5):
    """A Deliverer whose retry topic loops straight back into it; dead letters are kept."""
    letters: list = []
    holder = {}

    async def schedule(task):
        await holder["d"].on_task(task, task.partition)

    async def dead_letter(*args):
        letters.append(args)

    holder["d"] = Deliverer(
        sinks,
        {},
        {},
        Metrics(CollectorRegistry()),
        partitions=partitions,
        schedule=schedule,
        dead_letter=dead_letter,
        clock=clock or time.time,
        rand=rand,
    )
    return holder["d"], letters


def value(deliverer, name, **labels):
    return deliverer.metrics.registry.get_sample_value(name, labels) or 0


def test_the_backoff_schedule_is_5s_5min_30min_2h_5h_10h_with_jitter():
    assert [backoff_s(n, DELAYS, 0.2, rand=lambda: 0.5) for n in range(1, 7)] == list(DELAYS)
    assert backoff_s(1, DELAYS, 0.2, rand=lambda: 0.0) == pytest.approx(4.0)
    assert backoff_s(6, DELAYS, 0.2, rand=lambda: 1.0) == pytest.approx(43200.0)


def test_after_failure_retries_six_times_then_gives_up_and_honours_a_longer_retry_after():
    now = 100.0
    assert after_failure(1, now, retryable=True, retry_after_s=None, delays=DELAYS, jitter=0) == Retry(105.0, 1)
    assert after_failure(1, now, retryable=True, retry_after_s=60, delays=DELAYS, jitter=0) == Retry(160.0, 1)
    assert after_failure(2, now, retryable=True, retry_after_s=60, delays=DELAYS, jitter=0) == Retry(400.0, 2)
    assert after_failure(7, now, retryable=True, retry_after_s=None, delays=DELAYS, jitter=0) == GiveUp("retries_exhausted", 7)
    assert after_failure(1, now, retryable=False, retry_after_s=None, delays=DELAYS, jitter=0) == GiveUp("rejected", 1)


def test_digest_windows_are_aligned_to_the_clock_and_one_partition_per_sink():
    assert digest_due(1_000.0, 5) == 1_200.0 and digest_due(1_199.9, 5) == 1_200.0 and digest_due(1_200.0, 5) == 1_500.0
    # Literals computed once: a salted hash() would scatter a digest over partitions on restart.
    assert [partition_for_sink(name, 4) for name in ("team-digest", "digest", "ops-digest")] == [1, 2, 0]
    assert [partition_for_sink(name, 12) for name in ("team-digest", "digest", "ops-digest")] == [1, 6, 0]


def test_an_alert_is_delivered_once_per_sink_however_often_it_is_read():
    sinks = [MemorySink(SinkConfig(type="memory", name="a")), MemorySink(SinkConfig(type="memory", name="b"))]
    deliverer, _ = deliverer_for(sinks)
    alert = make_alerts(1)[0]

    async def go():
        for _ in range(3):  # a replay of the alerts topic, and detect re-sending the same id
            for sink in sinks:
                await deliverer.on_alert(alert, sink, 0)

    asyncio.run(go())
    assert [len(s.alerts) for s in sinks] == [1, 1]
    assert value(deliverer, "newsmon_deliveries_total", sink="memory", outcome="delivered") == 2
    assert value(deliverer, "newsmon_deliveries_total", sink="memory", outcome="duplicate_skipped") == 4


def test_each_ledger_entry_is_persisted_before_the_next_alert_is_sent():
    """A crash then re-sends only the one alert in flight, never one already delivered."""
    sink = MemorySink(SinkConfig(type="memory", name="a"))
    deliverer, _ = deliverer_for([sink])
    persisted: list[tuple[set, int]] = []  # (ledger keys, alerts sent) at each persist

    async def persist():
        persisted.append((set(deliverer.ledger), len(sink.alerts)))

    deliverer.persist = persist
    alerts = make_alerts(3)

    async def go():
        for alert in alerts:
            await deliverer.on_alert(alert, sink, 0)

    asyncio.run(go())
    assert persisted == [({f"{a.id}|a" for a in alerts[:n]}, n) for n in (1, 2, 3)]


def test_a_failing_endpoint_costs_one_attempt_not_a_sleep():
    """A 503 on the first attempt becomes a table entry due in 5 s (±20 %); on_alert returns at once."""
    clock = Clock()
    with WebhookReceiver(SECRET, fail=lambda r: (503, "busy", {})) as hook:
        sink = WebhookSink(
            WebhookConfig(type="webhook", name="hook", url=f"{hook.url}/x", secret=SECRET, allow_networks=("127.0.0.0/8",))
        )
        memory = MemorySink(SinkConfig(type="memory"))
        deliverer, letters = deliverer_for([sink, memory], clock=clock)
        alerts = make_alerts(5)

        async def go():
            began = time.monotonic()
            for alert in alerts:
                await deliverer.on_alert(alert, sink, 1)
                await deliverer.on_alert(alert, memory, 1)
            await sink.close()
            return time.monotonic() - began

        took = asyncio.run(go())
    assert took < 3, "no sleeping on a failing endpoint"
    assert len(memory.alerts) == 5 and not letters
    tasks = [decode_task(v) for v in deliverer.pending.values()]
    assert len(tasks) == 5 and {t.attempt for t in tasks} == {1} and {t.partition for t in tasks} == {1}
    assert {t.not_before - clock.now for t in tasks} == {5.0}
    assert all("503" in t.error for t in tasks)
    assert value(deliverer, "newsmon_deliveries_total", sink="webhook", outcome="retry_scheduled") == 5


def test_a_digest_sink_gets_one_batch_when_the_window_closes():
    clock = Clock(1_000_020.0)
    digest = MemorySink(SinkConfig(type="memory", name="digest", digest_minutes=1))
    deliverer, _ = deliverer_for([digest], clock=clock)
    partition = partition_for_sink("digest", 4)

    async def go():
        for n, alert in enumerate(make_alerts(4)):
            await deliverer.on_alert(alert, digest, n % 4)
        await deliverer.on_tick(partition)
        assert digest.batches == [], "not before the window closes"
        clock.now = digest_due(1_000_020.0, 1)
        await deliverer.on_tick(partition)

    asyncio.run(go())
    assert [len(batch) for batch in digest.batches] == [4]
    assert not deliverer.pending and all(v["state"] == "delivered" for v in deliverer.ledger.values())


def test_a_sink_that_crashes_on_an_alert_dead_letters_it_as_poison():
    class Broken(Sink):
        async def send(self, alert):
            raise ValueError("cannot render this alert")

    broken = Broken(SinkConfig(type="broken"))
    broken.type_name = "broken"
    deliverer, letters = deliverer_for([broken])
    asyncio.run(deliverer.on_alert(make_alerts(1)[0], broken, 0))
    ((reason, error, _alert, sink, attempts, _p),) = letters
    assert (reason, sink, attempts) == ("sink_error", "broken", 1) and "cannot render" in error
    assert not deliverer.pending


def test_a_pending_entry_for_a_sink_no_longer_configured_is_dead_lettered():
    memory = MemorySink(SinkConfig(type="memory", name="old", digest_minutes=1))
    clock = Clock()
    deliverer, letters = deliverer_for([memory], clock=clock, partitions=1)
    asyncio.run(deliverer.on_alert(make_alerts(1)[0], memory, 0))
    deliverer.sinks.clear()  # the operator removed the sink and restarted
    clock.now += 120
    asyncio.run(deliverer.on_tick(0))
    assert [letter[0] for letter in letters] == ["sink_removed"] and not deliverer.pending


def test_replaying_a_dead_letter_delivers_it_once():
    from monitor.models import DeliveryTask

    memory = MemorySink(SinkConfig(type="memory"))
    deliverer, _ = deliverer_for([memory], partitions=1)
    alert = make_alerts(1)[0]
    deliverer.ledger[f"{alert.id}|memory"] = {"state": "dead", "at": 0, "ref": None}

    async def go():
        for _ in range(2):
            await deliverer.on_task(DeliveryTask(op="resend", sink="memory", alert=alert, partition=0), 0)
            await deliverer.on_tick(0)

    asyncio.run(go())
    assert [a.id for a in memory.alerts] == [alert.id]


def test_a_failed_digest_is_retried_as_one_message_under_one_id():
    """Each entry of a failed window used to draw its own jitter, so the retry went out as
    several smaller digests, each under a new id a receiver could not dedupe."""

    class FlakyDigest(MemorySink):
        failures = 1

        async def send_batch(self, alerts):
            if self.failures:
                self.failures -= 1
                raise DeliveryError("503 busy")
            await super().send_batch(alerts)

    clock = Clock(1_000_020.0)
    digest = FlakyDigest(SinkConfig(type="memory", name="digest", digest_minutes=1))
    deliverer, letters = deliverer_for([digest], clock=clock, rand=random.Random(5).random)
    partition = partition_for_sink("digest", 4)

    async def go():
        for n, alert in enumerate(make_alerts(5)):
            await deliverer.on_alert(alert, digest, n % 4)
        clock.now = digest_due(1_000_020.0, 1)
        await deliverer.on_tick(partition)  # fails: all five go back to the table
        retries = {decode_task(v).not_before for v in deliverer.pending.values()}
        assert len(deliverer.pending) == 5 and len(retries) == 1, "one retry time for the whole window"
        for _ in range(20):  # ticks every 30 s through the back-off
            clock.now += 30
            await deliverer.on_tick(partition)

    asyncio.run(go())
    assert [len(batch) for batch in digest.batches] == [5] and not letters


def test_a_sink_that_cannot_start_is_retried_not_raised():
    class Unstartable(MemorySink):
        starts = 0

        async def start(self):
            self.starts += 1
            if self.starts == 1:
                raise PermissionError("the sink's directory is read-only")

    clock = Clock()
    sink = Unstartable(SinkConfig(type="memory", name="unstartable"))
    deliverer, letters = deliverer_for([sink], clock=clock)
    alert = make_alerts(1)[0]
    asyncio.run(deliverer.on_alert(alert, sink, 2))  # must not raise out of the agent
    (task,) = [decode_task(v) for v in deliverer.pending.values()]
    assert task.attempt == 1 and "could not start" in task.error and "read-only" in task.error
    clock.now = task.not_before
    asyncio.run(deliverer.on_tick(2))
    assert [a.id for a in sink.alerts] == [alert.id] and not letters and not deliverer.pending


def test_an_alert_read_again_while_its_retry_waits_is_left_to_the_retry():
    clock = Clock()
    with WebhookReceiver(SECRET, fail=lambda r: (503, "busy", {})) as hook:
        sink = WebhookSink(
            WebhookConfig(type="webhook", name="hook", url=f"{hook.url}/x", secret=SECRET, allow_networks=("127.0.0.0/8",))
        )
        deliverer, _letters = deliverer_for([sink], clock=clock)
        alert = make_alerts(1)[0]

        async def go():
            await deliverer.on_alert(alert, sink, 1)  # fails: a retry waits in the table
            await deliverer.on_alert(alert, sink, 1)  # the lane reads it again after a restart
            await sink.close()

        asyncio.run(go())
        assert len(hook.requests) == 1, "the re-read did not send it again before its back-off"
    (task,) = [decode_task(v) for v in deliverer.pending.values()]
    assert task.attempt == 1 and task.not_before - clock.now == 5.0
