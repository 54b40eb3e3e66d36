"""The read model fed from the real embedded broker: idempotent, restartable, rebuildable;
feedback goes to the topic, the read model and the labels export."""

from __future__ import annotations

import csv
import io

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import NewTopic
from starlette.testclient import TestClient

from monitor.console.app import create_app
from monitor.console.export import write_labels
from monitor.console.follow import Follower
from monitor.console.store import ReadModel
from monitor.models import Feedback
from monitor.runtime.kafka_topics import KafkaTopicNames, admin_client, ensure_topics, make_producer
from tests.console.conftest import csrf_of
from tests.support.console import near_miss, story_records
from tests.support.kafka import read_topic
from tests.support.waiting import wait_for


def produce_story(settings, story_id: str = "story-k") -> None:
    names = KafkaTopicNames.for_settings(settings)
    alerts, decisions = story_records(story_id)
    producer = make_producer(settings)
    try:
        for decision, when in [*decisions, near_miss(f"{story_id}-near")]:
            producer.send(
                names.decisions,
                key=decision.id.encode(),
                value=decision.dumps(serializer="json"),
                timestamp_ms=int(when.timestamp() * 1000),
            )
        for alert in alerts:
            producer.send(names.alerts, key=alert.story_id.encode(), value=alert.dumps(serializer="json"))
        producer.send(names.alerts, key=b"junk", value=b"{not json")  # a record the console must skip, not die on
        producer.flush(15)
    finally:
        producer.close()


def counts(model: ReadModel) -> tuple[int, int]:
    return model.query("SELECT COUNT(*) FROM alerts")[0][0], model.query("SELECT COUNT(*) FROM decisions")[0][0]


def follow_until(settings, model: ReadModel, expected: tuple[int, int]) -> Follower:
    follower = Follower(settings, model).start()
    wait_for(lambda: counts(model) == expected, 60, lambda: f"read model at {counts(model)}, expected {expected}")
    return follower


def test_read_model_is_fed_from_the_topics_and_survives_restarts_and_rebuilds(broker_settings):
    ensure_topics(broker_settings)
    produce_story(broker_settings)
    path = broker_settings.data_dir / "console.sqlite3"
    model = ReadModel(path)
    follower = follow_until(broker_settings, model, (2, 3))
    wait_for(lambda: follower.vitals.undecodable == 1, 10, "the junk record counted")
    committed = {}
    group = KafkaConsumer(bootstrap_servers=broker_settings.bootstrap_servers, group_id=follower.group, enable_auto_commit=False)
    try:
        wait_for(
            lambda: (
                committed.update({tp: group.committed(TopicPartition(*tp)) for tp in model.positions()})
                or committed == model.positions()
            ),
            20,
            lambda: f"group offsets {committed}",
        )
    finally:
        group.close()
    seen_at = model.query("SELECT seen_at FROM decisions WHERE id = 'story-k-art1'")[0][0]
    assert seen_at == "2026-11-20T09:00:00+00:00", "a decision's time is its record's timestamp"
    follower.stop()
    model.close()

    # A restart resumes where it stopped: the same rows, none twice, and what it showed is still there.
    model = ReadModel(path)
    assert counts(model) == (2, 3)
    follower = follow_until(broker_settings, model, (2, 3))
    follower.stop()
    # Re-reading every record (positions forgotten) changes nothing: upserts by id.
    model.query("DELETE FROM positions")
    follower = Follower(broker_settings, model).start()
    wait_for(lambda: len(model.positions()) >= 2, 30, "positions stored again")
    assert counts(model) == (2, 3)
    follower.stop()
    model.close()

    # A deleted read model is rebuilt from the topics.
    path.unlink()
    rebuilt = ReadModel(path)
    follow_until(broker_settings, rebuilt, (2, 3)).stop()
    rebuilt.close()


def console_with_story(settings, watchlist, story_id: str):
    """The topics made, one story's alerts and decisions in a fresh read model, the app on it."""
    ensure_topics(settings)
    model = ReadModel(settings.data_dir / "console.sqlite3")
    alerts, decisions = story_records(story_id)
    model.store(alerts, decisions)
    return model, create_app(settings, model, route_for=watchlist.route_for)


def test_feedback_goes_to_the_topic_and_the_read_model_and_exports_as_labels(broker_settings, watchlist):
    model, app = console_with_story(broker_settings, watchlist, "story-f")
    with TestClient(app, base_url="http://127.0.0.1:8090", follow_redirects=False) as client:
        token = csrf_of(client)
        base = {"csrf": token, "story_id": "story-f", "alert_id": "story-f-new", "article_id": "story-f-art1"}
        response = client.post("/feedback", data={**base, "verdict": "not_relevant", "next": "//evil.example/"})
        assert response.status_code == 303 and response.headers["location"] == "/", "never redirects off the console"
        assert (
            client.post("/feedback", data={**base, "verdict": "mute", "next": "/story/story-f"}).headers["location"]
            == "/story/story-f"
        )
        assert client.post("/feedback", data={**base, "verdict": "maybe"}).status_code == 400
        assert "<strong>muted</strong>" in client.get("/story/story-f").text
    names = KafkaTopicNames.for_settings(broker_settings)
    records = read_topic(broker_settings.broker_url, names.feedback, until=lambda r: len(r) >= 2)
    sent = [Feedback.loads(record.value, serializer="json") for record in records]
    assert [item.verdict for item in sent] == ["not_relevant", "mute"]
    assert {record.key for record in records} == {b"CHN|RUS"}, "keyed by the story's route, as the detect stage reads it"
    assert sent[1].route == "CHN|RUS"
    out = io.StringIO()
    assert write_labels(model, out) == 1, "a mute is no relevance judgement"
    (row,) = csv.DictReader(io.StringIO(out.getvalue()))
    assert row["id"] == "story-f-art1" and row["relevant"] == "0" and row["split"] == "feedback"
    model.close()


def test_each_alert_of_a_story_can_be_judged_on_its_own_escalations_too(broker_settings, watchlist):
    """The story's one form judges its first alert; each alert's "why" section has its own, so an
    escalation's rule is measured too."""
    import re

    from monitor.console.precision import measure

    model, app = console_with_story(broker_settings, watchlist, "story-j")
    with TestClient(app, base_url="http://127.0.0.1:8090", follow_redirects=False) as client:
        page = client.get("/story/story-j").text
        judged = re.findall(r'<form class="feedback alert-judgement".*?name="alert_id" value="([^"]+)"', page, re.S)
        assert judged == ["story-j-new", "story-j-esc"]
        form = {"csrf": csrf_of(client), "story_id": "story-j", "alert_id": "story-j-esc", "article_id": "story-j-art2"}
        answer = client.post("/feedback", data={**form, "verdict": "not_relevant", "next": "/story/story-j#why-story-j-esc"})
        assert answer.status_code == 303 and answer.headers["location"] == "/story/story-j#why-story-j-esc"
    result = measure(model, 30)
    assert (result.overall.right, result.overall.wrong) == (0, 1)
    assert result.by_rule["pair-sentence-trigger"].judged == 1
    stored = model.query("SELECT alert_id, article_id, verdict FROM feedback")
    assert [tuple(row) for row in stored] == [("story-j-esc", "story-j-art2", "not_relevant")]
    model.close()


def test_topics_created_after_the_console_started_are_followed(broker_settings):
    """The console may start before the worker or `newsmon topics` made its topics: it says
    they are missing on the health page and follows them once they exist."""
    model = ReadModel(broker_settings.data_dir / "console.sqlite3")
    names = KafkaTopicNames.for_settings(broker_settings)
    follower = Follower(broker_settings, model, topic_wait_s=0.5).start()
    try:
        wait_for(lambda: follower.ready.is_set(), 30, "the follower assigned what exists")
        assert "missing" in follower.vitals.error and names.alerts in follower.vitals.error
        # Long enough that a topic still missing would stall the next assignment if waited for.
        follower.topic_wait_s = 120.0
        admin = admin_client(broker_settings)
        try:
            admin.create_topics([NewTopic(t, broker_settings.partitions, 1) for t in (names.decisions, names.alerts)])
        finally:
            admin.close()
        produce_story(broker_settings)
        wait_for(lambda: counts(model) == (2, 3), 60, lambda: f"read model at {counts(model)}, expected (2, 3)")
        assert names.feedback in follower.vitals.error, "the topics still missing are still named"
        ensure_topics(broker_settings)
        wait_for(lambda: follower.vitals.error == "", 30, lambda: f"health still says {follower.vitals.error!r}")
    finally:
        follower.stop()
        model.close()
