"""Operator tools for the dead-letter topic: list what failed, resend what can be resent.

``newsmon dlq list`` reads the topic from the beginning with kafka-python (no consumer
group, so it never moves anyone's offsets). ``newsmon dlq resend`` resends selected
letters: a failed delivery goes back to the delivery-retries topic as a ``resend`` task
for the one sink that failed (the others already have it; the ledger skips it if it was
delivered since); any other stage's letter is produced again to the topic it came from.
Letters stay in the topic: resending the same letter twice sends it twice (a delivery
is still deduplicated by the ledger).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from monitor.models import Alert, DeadLetter, DeliveryTask
from monitor.runtime.kafka_topics import KafkaTopicNames
from monitor.settings import Settings
from monitor.sinks.backoff import partition_for_sink
from monitor.sinks.deliverer import RESEND


@dataclass(frozen=True)
class Letter:
    """A dead letter and where it sits in the dead-letter topic."""

    partition: int
    offset: int
    record: DeadLetter

    @property
    def ref(self) -> str:
        """``partition:offset``, what ``dlq resend --ref`` takes."""
        return f"{self.partition}:{self.offset}"


def read_letters(settings: Settings, timeout_s: float = 10.0) -> Iterator[Letter]:
    """Every dead letter currently in the topic, in partition then offset order."""
    topic = KafkaTopicNames.for_settings(settings).deadletter
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, group_id=None, enable_auto_commit=False)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        records = []
        remaining = {tp for tp in tps if ends[tp] > 0}
        deadline = time.monotonic() + timeout_s
        while remaining and time.monotonic() < deadline:
            for tp, batch in consumer.poll(timeout_ms=200).items():
                records.extend(batch)
                if batch and batch[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        for record in sorted(records, key=lambda r: (r.partition, r.offset)):
            try:
                letter = DeadLetter.loads(record.value, serializer="json")
            except Exception:
                letter = DeadLetter(
                    stage="?",
                    reason="unreadable",
                    error="not a DeadLetter record",
                    payload=record.value.decode("utf-8", "replace"),
                )
            yield Letter(record.partition, record.offset, letter)
    finally:
        consumer.close()


def select(
    letters: Iterable[Letter],
    *,
    stage: str | None = None,
    reason: str | None = None,
    sink: str | None = None,
    refs: Iterable[str] = (),
) -> list[Letter]:
    wanted = set(refs)
    return [
        letter
        for letter in letters
        if (stage is None or letter.record.stage == stage)
        and (reason is None or letter.record.reason == reason)
        and (sink is None or letter.record.sink == sink)
        and (not wanted or letter.ref in wanted)
    ]


def describe(letter: Letter) -> dict:
    record = letter.record
    return {
        "ref": letter.ref,
        "stage": record.stage,
        "reason": record.reason,
        "sink": record.sink,
        "key": record.key,
        "attempts": record.attempts,
        "failed_at": record.failed_at.isoformat() if record.failed_at else None,
        "source": f"{record.topic}[{record.partition}]@{record.offset}" if record.topic else "",
        "error": record.error,
    }


def line(letter: Letter) -> str:
    d = describe(letter)
    sink = f" sink={d['sink']}" if d["sink"] else ""
    return f"{d['ref']:>8}  {d['failed_at'] or '-':25}  {d['stage']}/{d['reason']}{sink}  key={d['key']}  attempts={d['attempts']}  {d['error'][:160]}"


def resend_message(
    letter: Letter, names: KafkaTopicNames, partitions: int, digest_sinks: set[str]
) -> tuple[str, bytes | None, bytes, int | None]:
    """(topic, key, value, partition) that resends ``letter``; ValueError if it cannot be."""
    record = letter.record
    if record.stage == "deliver" and record.sink:
        alert = Alert.loads(record.payload.encode(), serializer="json")
        partition: int | None
        if record.sink in digest_sinks:
            partition = partition_for_sink(record.sink, partitions)
        else:
            partition = record.partition if 0 <= record.partition < partitions else None
        task = DeliveryTask(op=RESEND, sink=record.sink, alert=alert, partition=partition if partition is not None else -1)
        return names.delivery_retries, alert.id.encode(), task.dumps(serializer="json"), partition
    if not record.topic:
        raise ValueError("the letter does not say which topic it came from")
    if not record.payload:
        raise ValueError("the letter carries no payload")
    return record.topic, record.key.encode() if record.key else None, record.payload.encode(), None


#: How long ``resend`` waits for the broker to confirm each letter after the flush.
SEND_TIMEOUT_S = 30.0


def resend(settings: Settings, letters: list[Letter], digest_sinks: set[str]) -> list[tuple[Letter, str | None]]:
    """Resend ``letters``; returns each with None (sent) or why it was not."""
    names = KafkaTopicNames.for_settings(settings)
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", enable_idempotence=False)
    results: list[tuple[Letter, str | None]] = []
    sent = []
    try:
        for letter in letters:
            try:
                topic, key, value, partition = resend_message(letter, names, settings.partitions, digest_sinks)
            except (ValueError, json.JSONDecodeError) as exc:
                results.append((letter, str(exc)))
                continue
            sent.append((letter, producer.send(topic, key=key, value=value, partition=partition)))
        producer.flush()
        # flush() does not raise for a record the broker refused: each send's own future says.
        for letter, future in sent:
            try:
                future.get(timeout=SEND_TIMEOUT_S)
            except Exception as exc:
                results.append((letter, f"the broker did not take it: {type(exc).__name__}: {exc}"))
            else:
                results.append((letter, None))
    finally:
        producer.close()
    return results
