"""The delivery ledger: entries expire after the retention, each deleted from its own
partition, and a digest entry already settled is not queued again by a re-read."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from monitor.models import DeliveryTask
from monitor.runtime.metrics import Metrics
from monitor.sinks import SinkConfig
from monitor.sinks.backoff import digest_due, partition_for_sink
from monitor.sinks.base import DeliveryError
from monitor.sinks.deliverer import PRUNE, Deliverer
from monitor.sinks.ledger import DEAD, DELIVERED, entry, expired, ledger_key, prune, written_at
from monitor.sinks.memory import MemorySink
from tests.support.alerts import make_alerts
from tests.support.tables import PartitionedTable

DAY = 86400.0
PARTITIONS = 4


def test_an_entry_is_written_at_its_at_or_its_bare_timestamp_and_unreadable_ones_are_kept():
    assert written_at(entry(DELIVERED, 10.0)) == 10.0
    assert written_at(12.5) == 12.5  # the first version's format
    assert written_at({"state": DEAD}) is None and written_at("soon") is None
    items = [("old", entry(DELIVERED, 1.0)), ("new", entry(DELIVERED, 100.0)), ("bare", 2.0), ("odd", {"state": DEAD})]
    assert expired(items, cutoff=50.0) == ["old", "bare"]


def test_prune_deletes_only_what_the_current_partition_holds_and_its_tombstones_go_there():
    table = PartitionedTable(PARTITIONS)
    for partition in range(PARTITIONS):
        table.current = partition
        table[f"a{partition}|hook"] = entry(DELIVERED, 1.0)
        table[f"b{partition}|hook"] = entry(DELIVERED, 1_000.0)
    table.current = 2
    assert prune(table, cutoff=500.0) == (1, 8)
    assert "a2|hook" not in table.parts[2] and table.holders("a2|hook") == set()
    # The other partitions' old entries wait for their own prune: deleted from here, their
    # changelogs would keep them and the next recovery would bring them back.
    for partition in (0, 1, 3):
        assert table.holders(f"a{partition}|hook") == {partition}
    for partition in range(PARTITIONS):
        table.current = partition
        prune(table, cutoff=500.0)
    assert sorted(table) == [f"b{p}|hook" for p in range(PARTITIONS)]
    assert all(table.holders(f"a{p}|hook") == set() for p in range(PARTITIONS))


class Clock:
    def __init__(self, now: float = 1_000_020.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def scoped(sinks, clock, *, retention_s: float = 30 * DAY):
    """A Deliverer on partitioned tables; every call runs "inside an event" of its partition,
    and the retry topic loops straight back, into the task's partition."""
    ledger, pending = PartitionedTable(PARTITIONS), PartitionedTable(PARTITIONS)
    letters: list = []
    holder: dict = {}

    def inside(partition):
        previous = ledger.current
        ledger.current = pending.current = partition
        return previous

    async def schedule(task):
        previous = inside(task.partition)
        try:
            await holder["d"].on_task(task, task.partition)
        finally:
            inside(previous)

    async def dead_letter(*args):
        letters.append(args)

    deliverer = Deliverer(
        sinks,
        ledger,
        pending,
        Metrics(CollectorRegistry()),
        partitions=PARTITIONS,
        schedule=schedule,
        dead_letter=dead_letter,
        clock=clock,
        ledger_retention_s=retention_s,
    )
    holder["d"] = deliverer
    return deliverer, letters, inside


class RefusingDigest(MemorySink):
    async def send_batch(self, alerts):
        self.batches.append(list(alerts))
        raise DeliveryError("404 no such subscription", retryable=False)


def test_a_dead_lettered_digest_entry_is_not_queued_again_when_its_alert_is_read_again():
    """The lane reads the ledger on the alert's partition; a digest's entries settle on the
    digest's partition. Before the fix a re-read queued the dead alert again and the digest
    sent it (and dead-lettered it) a second time."""
    clock = Clock()
    sink = RefusingDigest(SinkConfig(type="memory", name="digest", digest_minutes=1))
    deliverer, letters, inside = scoped([sink], clock)
    target = partition_for_sink("digest", PARTITIONS)
    home = (target + 1) % PARTITIONS
    (alert,) = make_alerts(1)

    async def read_alert():
        inside(home)
        await deliverer.on_alert(alert, sink, home)

    async def window_closes():
        clock.now = digest_due(clock.now, 1) + 1
        inside(target)
        await deliverer.on_tick(target)

    async def go():
        await read_alert()
        await window_closes()
        assert len(letters) == 1 and deliverer.ledger.parts[target][ledger_key(alert.id, "digest")]["state"] == DEAD
        await read_alert()  # a restart or a rebalance reads the alerts topic again
        await window_closes()

    asyncio.run(go())
    assert len(sink.batches) == 1 and len(letters) == 1
    assert len(deliverer.pending) == 0


def test_a_prune_task_deletes_the_partitions_entries_past_the_retention_and_counts_them():
    clock = Clock()
    sink = MemorySink(SinkConfig(type="memory", name="hook"))
    deliverer, _, inside = scoped([sink], clock, retention_s=10 * DAY)
    old, recent = make_alerts(2)

    async def go():
        inside(1)
        await deliverer.on_alert(old, sink, 1)
        clock.now += 9 * DAY
        await deliverer.on_alert(recent, sink, 1)
        clock.now += 2 * DAY  # old: 11 days, recent: 2 days
        await deliverer.on_task(DeliveryTask(op=PRUNE), 1)

    asyncio.run(go())
    assert list(deliverer.ledger) == [ledger_key(recent.id, "hook")]
    assert deliverer.ledger.holders(ledger_key(old.id, "hook")) == set()
    registry = deliverer.metrics.registry
    assert registry.get_sample_value("newsmon_ledger_pruned_total") == 1
    assert registry.get_sample_value("newsmon_ledger_entries") == 1
