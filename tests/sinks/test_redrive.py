"""Dead-letter tools: selecting letters, describing them for an operator, the message that
resends a delivery letter or a stage letter, and reading letters back from the real broker."""

import json
from datetime import UTC, datetime

import pytest
from kafka import KafkaProducer

from monitor.models import Alert, DeadLetter, DeliveryTask
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics
from monitor.sinks.redrive import Letter, describe, line, read_letters, resend_message, select

NAMES = KafkaTopicNames(
    articles="t-articles",
    tagged="t-tagged",
    decisions="t-decisions",
    alerts="t-alerts",
    deadletter="t-deadletter",
    delivery_retries="t-delivery-retries",
)
FAILED_AT = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
ALERT = Alert(id="alert-7", story_id="story-7", kind="new", headline="Ferry strike halts the harbour")


def deliver_letter(sink: str, partition: int = 2, offset: int = 11) -> DeadLetter:
    return DeadLetter(
        stage="deliver",
        reason="retries_exhausted",
        error="HTTP 503 from the receiver",
        key=ALERT.id,
        payload=ALERT.dumps(serializer="json").decode(),
        topic="t-alerts",
        partition=partition,
        offset=offset,
        attempts=7,
        failed_at=FAILED_AT,
        sink=sink,
    )


TAG_LETTER = DeadLetter(
    stage="tag",
    reason="undecodable",
    error="not an Article",
    key="article-3",
    payload='{"id": "article-3"}',
    topic="t-articles",
    partition=1,
    offset=40,
)

LETTERS = [
    Letter(0, 0, TAG_LETTER),
    Letter(0, 1, deliver_letter("slack")),
    Letter(1, 0, deliver_letter("webhook")),
    Letter(1, 1, DeadLetter(stage="detect", reason="error", error="boom", key="k9", payload="{}", topic="t-tagged")),
]


def test_select_without_filters_keeps_every_letter():
    assert select(LETTERS) == LETTERS


def test_select_filters_by_stage_reason_sink_and_refs_together():
    assert [letter.ref for letter in select(LETTERS, stage="deliver")] == ["0:1", "1:0"]
    assert [letter.ref for letter in select(LETTERS, reason="undecodable")] == ["0:0"]
    assert [letter.ref for letter in select(LETTERS, sink="webhook")] == ["1:0"]
    assert [letter.ref for letter in select(LETTERS, refs=["1:1", "0:0", "9:9"])] == ["0:0", "1:1"]
    assert [letter.ref for letter in select(LETTERS, stage="deliver", refs=["0:0", "0:1"])] == ["0:1"]
    assert select(LETTERS, stage="deliver", sink="email") == []


def test_describe_gives_the_operator_where_the_letter_came_from_and_why():
    assert describe(LETTERS[1]) == {
        "ref": "0:1",
        "stage": "deliver",
        "reason": "retries_exhausted",
        "sink": "slack",
        "key": "alert-7",
        "attempts": 7,
        "failed_at": "2026-03-02T08:30:00+00:00",
        "source": "t-alerts[2]@11",
        "error": "HTTP 503 from the receiver",
    }


def test_describe_leaves_source_and_failure_time_empty_when_the_letter_does_not_say():
    bare = Letter(3, 4, DeadLetter(stage="?", reason="unreadable"))
    assert describe(bare) == {
        "ref": "3:4",
        "stage": "?",
        "reason": "unreadable",
        "sink": "",
        "key": "",
        "attempts": 1,
        "failed_at": None,
        "source": "",
        "error": "",
    }


def test_line_is_one_fixed_width_row_naming_the_sink_only_when_there_is_one():
    assert line(LETTERS[1]) == (
        "     0:1  2026-03-02T08:30:00+00:00  deliver/retries_exhausted sink=slack  key=alert-7  attempts=7  "
        "HTTP 503 from the receiver"
    )
    assert line(LETTERS[0]) == ("     0:0  -                          tag/undecodable  key=article-3  attempts=1  not an Article")


def test_line_cuts_a_long_error_at_160_characters():
    letter = Letter(0, 5, DeadLetter(stage="tag", reason="error", error="x" * 500))
    assert line(letter).endswith("  " + "x" * 160)


def delivery_task(value: bytes) -> DeliveryTask:
    return DeliveryTask.loads(value, serializer="json")


def test_a_delivery_letter_goes_back_to_the_retries_topic_for_its_one_sink_on_its_partition():
    topic, key, value, partition = resend_message(Letter(0, 1, deliver_letter("webhook", partition=2)), NAMES, 4, set())
    assert (topic, key, partition) == ("t-delivery-retries", b"alert-7", 2)
    task = delivery_task(value)
    assert (task.op, task.sink, task.partition, task.alert.id, task.alert.headline) == (
        "resend",
        "webhook",
        2,
        "alert-7",
        "Ferry strike halts the harbour",
    )


def test_a_delivery_letter_from_a_partition_that_no_longer_exists_lets_the_producer_choose():
    topic, key, value, partition = resend_message(Letter(0, 1, deliver_letter("webhook", partition=6)), NAMES, 4, set())
    assert (topic, key, partition, delivery_task(value).partition) == ("t-delivery-retries", b"alert-7", None, -1)


@pytest.mark.parametrize(("sink", "partitions", "expected"), [("team-digest", 4, 1), ("digest", 4, 2), ("digest", 12, 6)])
def test_a_digest_sinks_letter_goes_to_the_one_partition_that_collects_that_digest(sink, partitions, expected):
    _topic, _key, value, partition = resend_message(Letter(0, 1, deliver_letter(sink, partition=0)), NAMES, partitions, {sink})
    assert partition == expected and delivery_task(value).partition == expected


def test_a_stage_letter_is_produced_again_to_the_topic_it_came_from_with_its_key():
    assert resend_message(LETTERS[0], NAMES, 4, set()) == ("t-articles", b"article-3", b'{"id": "article-3"}', None)
    keyless = Letter(0, 2, DeadLetter(stage="tag", reason="error", payload="{}", topic="t-articles"))
    assert resend_message(keyless, NAMES, 4, set()) == ("t-articles", None, b"{}", None)


def test_a_delivery_letter_without_a_sink_is_resent_like_a_stage_letter():
    letter = DeadLetter(stage="deliver", reason="error", key="alert-7", payload='{"id": "alert-7"}', topic="t-alerts")
    assert resend_message(Letter(0, 3, letter), NAMES, 4, set()) == ("t-alerts", b"alert-7", b'{"id": "alert-7"}', None)


@pytest.mark.parametrize(
    ("letter", "message"),
    [
        (DeadLetter(stage="tag", reason="error", payload="{}"), "does not say which topic"),
        (DeadLetter(stage="tag", reason="error", topic="t-articles"), "carries no payload"),
    ],
)
def test_a_letter_without_its_topic_or_payload_cannot_be_resent(letter, message):
    with pytest.raises(ValueError, match=message):
        resend_message(Letter(0, 0, letter), NAMES, 4, set())


def test_a_delivery_letter_whose_payload_is_not_json_cannot_be_resent():
    letter = DeadLetter(stage="deliver", reason="rejected", payload="<html>", topic="t-alerts", sink="slack")
    with pytest.raises(json.JSONDecodeError):
        resend_message(Letter(0, 0, letter), NAMES, 4, set())


def test_read_letters_returns_what_the_dead_letter_topic_holds_in_partition_then_offset_order(broker_settings):
    ensure_topics(broker_settings)
    topic = KafkaTopicNames.for_settings(broker_settings).deadletter
    producer = KafkaProducer(bootstrap_servers=broker_settings.bootstrap_servers, acks="all")
    try:
        # Written in the reverse of the order they are read back.
        producer.send(topic, value=deliver_letter("slack").dumps(serializer="json"), partition=1).get(timeout=30)
        producer.send(topic, value=TAG_LETTER.dumps(serializer="json"), partition=0).get(timeout=30)
    finally:
        producer.close()
    letters = list(read_letters(broker_settings, timeout_s=20))
    assert [(letter.ref, letter.record.stage, letter.record.sink, letter.record.key) for letter in letters] == [
        ("0:0", "tag", "", "article-3"),
        ("1:0", "deliver", "slack", "alert-7"),
    ]
    assert letters[1].record.failed_at == FAILED_AT and letters[1].record.attempts == 7
