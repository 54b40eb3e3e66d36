"""Reading topics of the real test broker, as an outside observer (no consumer group)."""

from __future__ import annotations

import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition


def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list], bool] | None = None,
    timeout_s: float = 30.0,
    settle_s: float = 0.0,
) -> list:
    """All records of ``topic`` from the beginning, polling until ``until(records)`` or timeout.

    ``settle_s`` keeps reading that long after ``until`` holds, to catch extra records
    (a duplicate alert, say) that a too-early stop would hide.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        deadline = time.monotonic() + 10
        partitions = None
        while not partitions and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                time.sleep(0.1)
        assert partitions, f"topic {topic} does not exist"
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list = []
        deadline = time.monotonic() + timeout_s
        satisfied_at = None
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
            if until is None or until(records):
                satisfied_at = satisfied_at or time.monotonic()
                if time.monotonic() - satisfied_at >= settle_s:
                    break
        return records
    finally:
        consumer.close()
