"""At-least-once guards for faust-streaming 0.15 on Tansu, installed when the worker app is built.

A worker that starts (or rebalances) onto a backlog of a topic read by several agents
could lose one agent's copy of an event for good. Two upstream faults combine; both are
open upstream (faust-streaming issues #596 and #606) and both are in 0.15.3:

1. ``Recovery.on_recovery_completed`` (and ``_resume_streams``) resumes fetching the
   stream partitions *before* it seeks them to their committed offsets, and only then
   calls ``flow_control.resume()``, which clears every agent's input queue. Events fetched
   in that window reach the queues; an agent that already took its copy processes and
   acks it, an agent still busy with the previous event loses its copy in the clear, and
   the copy fetched again after the seek is dropped by the consumer as already read.
   The event's reference count never reaches zero: it is never acked.
2. ``Consumer._new_offset`` withholds a commit only when the first acked offset is *more
   than one* past the committed offset (and not at all when nothing was committed yet),
   so a single unacked event at the head of a partition is committed over and never
   read again.

Guard 1 keeps the stream partitions paused until the seek and the queue clear are done,
so the agents never see an event fetched before the seek. For that order to be safe, a
fetch must not return records of partitions paused while it waits: Faust hands aiokafka
its live set of active partitions, aiokafka reads an empty set as "every partition", and
Faust drops what it did not ask for -- after aiokafka has counted it as consumed. In
Faust's own order the seek that follows fetches such records again; after guard 1's seek
nothing would, and the worker sat idle (seen in the kill -9 test). So a fetch is given a
snapshot of the active partitions taken when it starts. Guard 2 remembers which offsets
the consumer handed to the agents and never lets a commit pass one that no agent has
finished; an offset that was never handed over (a real gap: compaction, retention) is
still committed over, as Faust intends.

3. Tansu (the embedded broker) answers ListOffsets(latest) with the base offset of the
   partition's last record batch plus one, not with the log end. Faust takes that as the
   changelog's highwater, so table recovery stops at the first record of the last batch
   and the rest of that batch never reaches the table (ledger entries, pending retries
   and story state written together come back missing after any restart). The high
   watermark in fetch responses is right; guard 3 makes recovery wait for it too.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict

import faust
from faust.tables.recovery import Recovery
from faust.transport.conductor import Conductor
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

log = logging.getLogger(__name__)

#: The guards wrap private Faust methods; a new minor version must be checked by hand
#: (are #596 and #606 fixed? do the wrapped methods still exist and mean the same?).
SUPPORTED_VERSIONS = ("0.15.",)

_installed = False


def install() -> None:
    """Patch Faust's classes once per process; refuses a Faust version it was not made for."""
    global _installed
    if _installed:
        return
    if not faust.__version__.startswith(SUPPORTED_VERSIONS):
        raise RuntimeError(
            f"agents.at_least_once guards faust-streaming 0.15, found {faust.__version__}: "
            "check faust-streaming issues #596 and #606 before allowing it"
        )
    guards = (
        (Recovery, "on_recovery_completed", _seek_before_fetching),
        (Recovery, "_resume_streams", _seek_before_fetching),
        (AIOKafkaConsumerThread, "_fetch_records", _fetching_a_snapshot),
        (Conductor, "_build_handler", _recording_handovers),
        (Consumer, "_new_offset", _never_past_unfinished),
        (Consumer, "on_partitions_revoked", _forgetting_revoked),
        (Recovery, "active_remaining", _to_the_fetched_end),
    )
    for cls, name, guard in guards:
        setattr(cls, name, guard(getattr(cls, name)))
    _installed = True


# --- guard 1: nothing fetched before the seek reaches an agent -------------------------
def _seek_before_fetching(method):
    """Wrap a Recovery method that ends a rebalance: the stream partitions it resumes are
    held paused until its ``flow_control.resume()``, which comes after the seek and clears
    the queues; they are resumed right after that clear, with no await in between."""

    @functools.wraps(method)
    async def wrapper(self, *args, **kwargs):
        consumer, flow = self.app.consumer, self.app.flow_control
        held: set = set()

        def hold(tps) -> None:
            held.update(tps)

        def resume_flow() -> None:
            type(flow).resume(flow)
            if held:
                type(consumer).resume_partitions(consumer, set(held))
                held.clear()

        consumer.resume_partitions = hold
        flow.resume = resume_flow
        try:
            return await method(self, *args, **kwargs)
        finally:
            # On a new rebalance (RebalanceAgain) the held partitions stay paused: the
            # recovery that follows resumes its own assignment.
            del consumer.resume_partitions
            del flow.resume

    return wrapper


def _fetching_a_snapshot(fetch_records):
    @functools.wraps(fetch_records)
    async def wrapper(self, consumer, active_partitions, *args, **kwargs):
        if active_partitions is not None:
            active_partitions = frozenset(active_partitions)
        return await fetch_records(self, consumer, active_partitions, *args, **kwargs)

    return wrapper


# --- guard 2: never commit past an event handed to the agents and not finished ---------
def _handed_over(consumer: Consumer) -> defaultdict:
    """Offsets handed to the agents and not yet committed, per partition."""
    return consumer.__dict__.setdefault("_newsmon_handed_over", defaultdict(set))


def _recording_handovers(build_handler):
    @functools.wraps(build_handler)
    def wrapper(self, tp, channels):
        handler = build_handler(self, tp, channels)
        if not self.acks_enabled_for(tp.topic):
            return handler  # changelogs are read by table recovery and never committed
        consumer = self.app.consumer

        async def handle(message) -> None:
            _handed_over(consumer)[message.tp].add(message.offset)
            await handler(message)

        return handle

    return wrapper


def unfinished_head(consumer: Consumer, tp) -> int | None:
    """The lowest offset at or past the committed one that was handed over and not acked."""
    handed = _handed_over(consumer).get(tp)
    if not handed:
        return None
    floor = consumer._committed_offset[tp] or 0
    acked = consumer._acked_index[tp]
    unfinished = [offset for offset in handed if offset >= floor and offset not in acked]
    return min(unfinished) if unfinished else None


def _would_pass(consumer: Consumer, tp, head: int) -> bool:
    """Would Faust's commit (a run of acked or gap offsets from the lowest one) pass ``head``?"""
    acked = consumer._acked[tp]
    gap = consumer._gap[tp]
    first = min(acked)
    if gap and gap.begin() <= max(acked):
        first = min(first, gap.begin())
    return head < first or (head < max(acked) and gap.overlaps(head))


def _never_past_unfinished(new_offset):
    @functools.wraps(new_offset)
    def wrapper(self, tp):
        if self._acked[tp]:
            head = unfinished_head(self, tp)
            if head is not None and _would_pass(self, tp, head):
                _report_withheld(self, tp, head)
                return None
        offset = new_offset(self, tp)
        handed = _handed_over(self).get(tp)
        if offset is not None and handed:
            handed.difference_update([o for o in handed if o < offset])
        return offset

    return wrapper


def _report_withheld(consumer: Consumer, tp, head: int) -> None:
    reported = consumer.__dict__.setdefault("_newsmon_withheld", {})
    if reported.get(tp) != head:
        reported[tp] = head
        log.warning(
            "not committing %s[%d] past offset %d: an agent got that event and never finished it "
            "(first acked offset %d); it is read again after the next restart or rebalance",
            tp.topic,
            tp.partition,
            head,
            min(consumer._acked[tp]),
        )


def _forgetting_revoked(on_partitions_revoked):
    @functools.wraps(on_partitions_revoked)
    async def wrapper(self, revoked):
        handed = _handed_over(self)
        reported = self.__dict__.get("_newsmon_withheld", {})
        for tp in revoked:
            handed.pop(tp, None)
            reported.pop(tp, None)
        return await on_partitions_revoked(self, revoked)

    return wrapper


# --- guard 3: table recovery reads to the end the fetches report ----------------------
def _to_the_fetched_end(active_remaining):
    """Wrap ``Recovery.active_remaining`` (what recovery waits on): a partition also has
    records left while its offset is below the high watermark of the last fetch."""

    @functools.wraps(active_remaining)
    def wrapper(self):
        remaining = active_remaining(self)
        consumer = self.app.consumer
        for tp in list(remaining):
            fetched_end = _fetch_highwater(consumer, tp)
            if fetched_end is not None:
                remaining[tp] = max(remaining[tp], fetched_end - 1 - self.active_offsets[tp])
        return remaining

    return wrapper


def _fetch_highwater(consumer: Consumer, tp) -> int | None:
    """The next offset to be written, per the last fetch response (None before any fetch)."""
    try:
        return consumer.highwater(tp)
    except Exception:
        return None
