"""Faust's offset bookkeeping with the at-least-once guard: real Faust objects (app, conductor,
consumer, messages), no broker needed because nothing is fetched or committed over the wire.

Two agents read one topic, as the delivery lanes do: an event is acked when both are done.
The scene is the one a restarted worker met (faust-streaming #596/#606): partition 2 was
committed up to offset 3, offsets 3–7 were handed to both agents, one agent's copy of offset
3 was lost (cleared from its queue), everything else finished.
"""

from __future__ import annotations

import asyncio

import faust
import pytest
from faust.transport.consumer import Consumer, ConsumerMessage
from faust.types import TP

from agents import at_least_once

TOPIC = "alerts-under-test"
TP2 = TP(TOPIC, 2)


def handing_over(offsets: range, *, committed: int | None, lost: set[int]):
    """Hand ``offsets`` of partition 2 to two agents through Faust's conductor; every copy is
    acked except one copy of each offset in ``lost``. Returns the consumer."""
    at_least_once.install()
    app = faust.App("at-least-once-test", broker="kafka://127.0.0.1:9", store="memory://")
    topic = app.topic(TOPIC, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    lanes = [topic.clone(), topic.clone()]  # what two agents on one topic subscribe

    async def scene() -> Consumer:
        for lane in lanes:
            app.topics.add(lane)
        await app.topics._update_indices()
        consumer = app.consumer
        if committed is not None:
            consumer._committed_offset[TP2] = committed
        app.flow_control.resume()
        handler = app.topics._build_handler(TP2, set(lanes))
        for offset in offsets:
            message = ConsumerMessage(TOPIC, 2, offset, 0.0, 0, None, b"k", b"v", None, generation_id=0)
            await handler(message)
        for n, lane in enumerate(lanes):
            for _ in offsets:
                event = lane.queue.get_nowait()
                if not (n == 0 and event.message.offset in lost):
                    event.ack()
        return consumer

    return asyncio.run(scene())


def upstream_new_offset(consumer: Consumer, tp: TP):
    return Consumer._new_offset.__wrapped__(consumer, tp)


def test_faust_alone_commits_over_the_one_copy_never_processed():
    """The upstream fault the guard exists for: committed 3, acked 4–7, offset 3 unfinished → 8."""
    consumer = handing_over(range(3, 8), committed=3, lost={3})
    assert sorted(consumer._acked[TP2]) == [4, 5, 6, 7]
    assert upstream_new_offset(consumer, TP2) == 8


def test_the_guard_withholds_the_commit_while_an_agent_has_not_finished_the_head(caplog):
    consumer = handing_over(range(3, 8), committed=3, lost={3})
    with caplog.at_level("WARNING", logger="agents.at_least_once"):
        assert consumer._new_offset(TP2) is None
    assert "past offset 3" in caplog.text
    assert at_least_once.unfinished_head(consumer, TP2) == 3


def test_the_guard_also_holds_when_nothing_was_committed_yet():
    """Faust skips its head check entirely without a committed offset: offset 0 lost → commits 4."""
    consumer = handing_over(range(0, 4), committed=None, lost={0})
    assert upstream_new_offset(handing_over(range(0, 4), committed=None, lost={0}), TP2) == 4
    assert consumer._new_offset(TP2) is None


def test_with_every_copy_finished_the_guard_commits_what_faust_commits():
    consumer = handing_over(range(3, 8), committed=3, lost=set())
    assert consumer._new_offset(TP2) == 8
    assert at_least_once.unfinished_head(consumer, TP2) is None


def test_an_offset_never_handed_over_is_a_real_gap_and_is_committed_over():
    """Retention or compaction removed offset 3: it never reached an agent, so 4–7 commit."""
    consumer = handing_over(range(4, 8), committed=3, lost=set())
    assert consumer._new_offset(TP2) == 8


@pytest.mark.parametrize("lost_offset", [5, 7])
def test_an_unfinished_offset_behind_the_head_stops_the_commit_just_before_it(lost_offset):
    consumer = handing_over(range(3, 8), committed=3, lost={lost_offset})
    assert consumer._new_offset(TP2) == lost_offset
