"""Rotation: the embedded broker kept under its memory budget, nothing lost.

Tansu keeps every message in memory and has no retention, so ``newsmon run`` replaces it
with a fresh one when it nears ``embedded_broker_budget_bytes``:

1. the poller stops after its current cycle (its state records only what the broker
   acknowledged, so anything it had not sent is fetched again on its next poll);
2. the drain: the worker and the console read everything there is — their groups'
   committed offsets reach every partition's end, and the ends stop moving (at most
   ``rotation_drain_timeout_s``; a delivery still failing waits in the retry table);
3. the worker stops (Faust commits; its tables are in RocksDB) and so does the console;
4. a fresh broker starts, with a new incarnation, and newsmon's topics;
5. what a reader has not read yet (nothing after a complete drain) and the dead letters
   are copied to the new broker, partition by partition, with their keys, headers and
   timestamps;
6. the old broker stops; the worker, the console and the poller start on the new one. The
   worker keeps its tables and writes them to the new changelogs (``agents/state.py``); the
   console keeps its rows and reads the new topics from their start (``ReadModel.follow_broker``).

Step 5 is what makes a drain that timed out, or a worker killed while stopping, lose
nothing: the copy starts at each group's committed offset, and the worker handles what it
gets twice as after any restart (at-least-once, idempotent sinks). A crash of ``newsmon run``
itself during a rotation loses what a crash at any other moment loses: messages in the
memory-only broker that no reader had finished (see the README); after step 2 there are none.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from monitor.runtime.broker import EmbeddedBroker
from monitor.runtime.kafka_topics import KafkaTopicNames, admin_client, console_group, ensure_topics
from monitor.runtime.metrics import broker_memory_bytes
from monitor.settings import MIB, Settings

log = logging.getLogger("newsmon.rotation")

#: A rotation starts at this fraction of the budget: what arrives while it drains stays inside.
START_FRACTION = 0.9
#: Fewest seconds between the end of one rotation and the start of the next.
MIN_INTERVAL_S = 30.0
#: Seconds between two drain checks; the ends must stand still across one.
DRAIN_CHECK_S = 1.0
COPY_TIMEOUT_S = 120.0


def due(rss: int | None, budget: int, *, now: float, last: float, floor: int = 0, min_interval_s: float = MIN_INTERVAL_S) -> bool:
    """Whether to rotate now: the broker near its budget, and the last rotation long enough ago —
    or, sooner, the budget itself reached while a fresh broker starts well below it (``floor``:
    its memory just after the last rotation). A fast pipeline fills a small budget within the
    pause; one that a fresh broker already fills would only rotate in a loop."""
    if not budget or rss is None or rss < START_FRACTION * budget:
        return False
    if not last or now - last >= min_interval_s:
        return True
    return rss >= budget and floor < START_FRACTION * budget


def budget_of(settings: Settings) -> int:
    """The budget rotation keeps to: none with the memory table store, whose tables live only
    in the changelogs a fresh broker does not have (a rotation would empty them)."""
    return settings.embedded_broker_budget_bytes if settings.table_store == "rocksdb" else 0


def describe_budget(settings: Settings) -> str:
    """One line on what newsmon run does about the embedded broker's memory (check-config, README)."""
    budget, warn = budget_of(settings), settings.embedded_broker_warn_bytes
    warning = f"a warning above {warn / MIB:.0f} MiB" if warn else "no warning"
    if settings.embedded_broker_budget_bytes and not budget:
        return f"never replaced: MONITOR_TABLE_STORE=memory keeps the tables in the broker; {warning}"
    if not budget:
        return f"never replaced (MONITOR_EMBEDDED_BROKER_BUDGET_BYTES=0), grows with every article; {warning}"
    return (
        f"drained and replaced by a fresh one from {START_FRACTION * budget / MIB:.0f} MiB "
        f"(budget {budget / MIB:.0f} MiB); {warning}"
        + (" (below the budget: it will warn before rotating)" if warn and warn < budget else "")
    )


@dataclass(frozen=True)
class Reader:
    """A consumer group and the topics it reads."""

    group: str
    topics: tuple[str, ...]


def readers(settings: Settings) -> list[Reader]:
    """Who must have read a topic before the broker holding it may go."""
    names = KafkaTopicNames.for_settings(settings)
    found = [Reader(settings.app_id, tuple(names.read_by_worker()))]
    if settings.console_port:
        found.append(Reader(console_group(settings), tuple(names.read_by_console())))
    return found


def first_unread(
    readers_: Sequence[Reader], committed: Mapping[str, Mapping[TopicPartition, int]], starts: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """Per partition, the first offset some reader of its topic has not finished (its group's
    committed offset; the partition's start where the group committed nothing)."""
    out: dict[TopicPartition, int] = {}
    for tp, start in starts.items():
        offsets = [max(start, committed[r.group].get(tp, start)) for r in readers_ if tp.topic in r.topics]
        if offsets:
            out[tp] = min(offsets)
    return out


def unread(first: Mapping[TopicPartition, int], ends: Mapping[TopicPartition, int]) -> int:
    """Messages between each partition's first unread offset and its end."""
    return sum(max(0, ends[tp] - offset) for tp, offset in first.items() if tp in ends)


class Offsets:
    """Partition starts, true ends and committed offsets on one broker, by kafka-python."""

    def __init__(self, settings: Settings, topics: Sequence[str]):
        self.settings = settings
        self.consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None, enable_auto_commit=False)
        self.admin = admin_client(settings)
        self.partitions = [TopicPartition(t, p) for t in topics for p in sorted(self.consumer.partitions_for_topic(t) or ())]

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()

    def starts(self) -> dict[TopicPartition, int]:
        return self.consumer.beginning_offsets(self.partitions)

    def ends(self, timeout_s: float = 10.0) -> dict[TopicPartition, int]:
        """Each partition's end as a fetch reports it (its high watermark).

        Tansu answers ListOffsets "latest" with the start of the last record batch plus
        one, short of the end; a fetch from there gets the true high watermark. A consumer of
        its own each time: a consumer keeps the high watermark of its last fetch, and an old
        one would pass for the end.
        """
        listed = self.consumer.end_offsets(self.partitions)
        starts = self.starts()
        fetcher = KafkaConsumer(bootstrap_servers=self.settings.bootstrap_servers, group_id=None, enable_auto_commit=False)
        try:
            fetcher.assign(self.partitions)
            for tp in self.partitions:
                fetcher.seek(tp, max(starts[tp], listed[tp] - 1))
            deadline = time.monotonic() + timeout_s
            while True:
                fetcher.poll(timeout_ms=200, max_records=1000)
                ends = {tp: fetcher.highwater(tp) for tp in self.partitions}
                if all(end is not None for end in ends.values()):
                    return {tp: int(end) for tp, end in ends.items() if end is not None}
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no high watermark for {[tp for tp, e in ends.items() if e is None]}")
        finally:
            fetcher.close()

    def committed(self, groups: Sequence[str]) -> dict[str, dict[TopicPartition, int]]:
        out: dict[str, dict[TopicPartition, int]] = {}
        for group in groups:
            found = self.admin.list_group_offsets({group: None}).get(group, {})
            out[group] = {tp: meta.offset for tp, meta in found.items() if meta.offset >= 0}
        return out


def drain(settings: Settings, stopping: Callable[[], bool]) -> tuple[bool, int]:
    """Wait until every reader has committed every partition's end, and the ends stood still
    across one check. Returns (drained, messages still unread)."""
    readers_ = readers(settings)
    offsets = Offsets(settings, sorted({t for r in readers_ for t in r.topics}))
    try:
        deadline = time.monotonic() + settings.rotation_drain_timeout_s
        before: dict[TopicPartition, int] | None = None
        left = 0
        while True:
            ends = offsets.ends()
            left = unread(first_unread(readers_, offsets.committed([r.group for r in readers_]), offsets.starts()), ends)
            if left == 0 and ends == before:
                return True, 0
            if stopping() or time.monotonic() > deadline:
                return False, left
            before = ends
            time.sleep(DRAIN_CHECK_S)
    finally:
        offsets.close()


def carry_over(old: Settings, new: Settings) -> int:
    """Copy to the new broker what no reader has finished, and every dead letter; return how many."""
    readers_ = readers(old)
    names = KafkaTopicNames.for_settings(old)
    read = sorted({t for r in readers_ for t in r.topics})
    offsets = Offsets(old, [*read, names.deadletter])
    producer = KafkaProducer(
        bootstrap_servers=new.bootstrap_servers,
        acks="all",
        enable_idempotence=False,  # Tansu has no idempotent producer
        linger_ms=20,
        max_request_size=16 * MIB,
    )
    try:
        starts, ends = offsets.starts(), offsets.ends()
        first = first_unread(readers_, offsets.committed([r.group for r in readers_]), starts)
        first.update({tp: starts[tp] for tp in offsets.partitions if tp.topic == names.deadletter})
        wanted = {tp: offset for tp, offset in first.items() if offset < ends[tp]}
        consumer = offsets.consumer
        consumer.assign(list(wanted))
        for tp, offset in wanted.items():
            consumer.seek(tp, offset)
        copied = 0
        futures = []
        deadline = time.monotonic() + COPY_TIMEOUT_S
        while any(consumer.position(tp) < ends[tp] for tp in wanted):
            if time.monotonic() > deadline:
                raise TimeoutError("the copy to the new broker did not finish")
            for tp, records in consumer.poll(timeout_ms=500, max_records=2000).items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    futures.append(
                        producer.send(
                            tp.topic,
                            value=record.value,
                            key=record.key,
                            headers=list(record.headers or []),
                            partition=tp.partition,
                            timestamp_ms=record.timestamp,
                        )
                    )
                    copied += 1
        producer.flush()
        for future in futures:
            future.get(timeout=0)  # raises the send's error, if any
        return copied
    finally:
        producer.close()
        offsets.close()


class Child(Protocol):
    """What a rotation needs of a supervised child (``monitor.runtime.supervise.Child``)."""

    name: str
    env: dict[str, str]

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class Outcome:
    """One rotation, for the log and the terminal."""

    number: int
    seconds: float
    paused_s: float
    rss_before: int
    rss_after: int
    drained: bool
    copied: int

    def line(self) -> str:
        return (
            f"embedded broker rotated (#{self.number}): {self.rss_before / MIB:.0f} MiB -> {self.rss_after / MIB:.0f} MiB "
            f"in {self.seconds:.1f} s, poller paused {self.paused_s:.1f} s"
            + ("" if self.drained else " (drain timed out)")
            + (f", {self.copied} messages carried over" if self.copied else "")
        )


class Rotation:
    """The embedded broker of ``newsmon run`` and its replacement when it nears the budget."""

    def __init__(self, broker: EmbeddedBroker, settings: Settings, env: Callable[[Settings], dict[str, str]]):
        self.broker = broker
        self.settings = settings
        self.env = env
        self.count = 0
        self.last = 0.0
        #: The broker's memory just after the last rotation.
        self.floor = 0

    def due(self) -> bool:
        rss = broker_memory_bytes(self.broker.pid)
        return due(rss, budget_of(self.settings), now=time.monotonic(), last=self.last, floor=self.floor)

    def rotate(self, children: Sequence[Child], stopping: Callable[[], bool]) -> Outcome | None:
        """Drain, swap the broker, restart ``children`` (poller, worker, console by name) on it.

        On failure the children start again on the old broker, and the next try waits
        MIN_INTERVAL_S. Returns None when it did not rotate (failure, or a stop request)."""
        began = time.monotonic()
        by_name = {child.name: child for child in children}
        rss_before = broker_memory_bytes(self.broker.pid) or 0
        log.info(
            "embedded broker at %.0f MiB (budget %.0f MiB): rotating",
            rss_before / MIB,
            self.settings.embedded_broker_budget_bytes / MIB,
        )
        by_name["poller"].stop()
        paused = time.monotonic()
        try:
            drained, left = drain(self.settings, stopping)
        except Exception as exc:  # the copy below starts from the committed offsets all the same
            log.warning("rotation: the drain could not be measured (%s: %s)", type(exc).__name__, exc)
            drained, left = False, -1
        if drained:
            log.info("rotation: drained in %.1f s", time.monotonic() - paused)
        else:
            log.warning(
                "rotation: drain incomplete after %.0f s (%d unread, -1: unknown); the unread is carried over",
                time.monotonic() - paused,
                left,
            )
        for name in ("worker", "console"):
            if name in by_name:
                by_name[name].stop()
        if stopping():
            return None  # newsmon run is stopping: its shutdown stops the broker
        fresh = None
        try:
            fresh = EmbeddedBroker(log_path=self.broker.log_path).start()
            settings = self.settings.with_overrides(
                broker_url=fresh.url,
                embedded_broker_pid=fresh.pid,
                broker_incarnation=uuid.uuid4().hex,
                embedded_broker_rotations=self.count + 1,
            )
            ensure_topics(settings)
            copied = carry_over(self.settings, settings)
        except Exception:
            log.exception("rotation failed; staying on the current broker")
            if fresh is not None:
                fresh.stop()
            self.last = time.monotonic()
            self._start(children, self.settings)
            return None
        self.broker.stop()
        self.broker, self.settings = fresh, settings
        self.count += 1
        self._start(children, settings)
        self.last = time.monotonic()
        self.floor = broker_memory_bytes(fresh.pid) or 0
        outcome = Outcome(
            number=self.count,
            seconds=self.last - began,
            paused_s=self.last - paused,
            rss_before=rss_before,
            rss_after=self.floor,
            drained=drained,
            copied=copied,
        )
        log.info("%s", outcome.line())
        return outcome

    def _start(self, children: Sequence[Child], settings: Settings) -> None:
        env = self.env(settings)
        for name in ("worker", "console", "poller"):  # the poller last: its articles wait in the broker for the worker
            for child in children:
                if child.name == name:
                    child.env = env
                    child.start()
