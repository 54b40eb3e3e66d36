"""A story muted on the console raises no more escalations from the real worker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from monitor.models import Alert, Article, Decision, Feedback, utcnow
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics, make_producer
from tests.support.kafka import read_topic
from tests.support.waiting import wait_for

pytestmark = pytest.mark.timeout(240)

WHEN = datetime(2022, 3, 14, 9, tzinfo=UTC)
ROME = " Jake Sullivan meets Yang Jiechi in Rome on Monday to discuss the request."
REQUEST = Article(
    id="m-request",
    title="Russia asked China for military equipment",
    text="US officials say Russia asked China for military equipment and drones." + ROME,
    source="Wire A",
    published=WHEN,
)
DELIVERY = Article(
    id="m-delivery",
    title="China sent drones to Russia after the request",
    text="US officials say China has sent drones and artillery shells to Russia." + ROME,
    source="Wire C",
    published=WHEN + timedelta(hours=30),
)


def test_a_muted_story_raises_no_escalation(broker_settings, start_worker, tagger):
    ensure_topics(broker_settings)
    names = KafkaTopicNames.for_settings(broker_settings)
    bootstrap = broker_settings.bootstrap_servers[0]
    worker = start_worker()
    request, delivery = tagger.tag([REQUEST, DELIVERY])
    assert request.route == delivery.route == "CHN|RUS"
    producer = make_producer(broker_settings)

    def send_tagged(tagged) -> None:
        producer.send(names.tagged, key=tagged.route.encode(), value=tagged.dumps(serializer="json")).get(15)

    send_tagged(request)
    (first,) = [Alert.loads(r.value, serializer="json") for r in read_topic(bootstrap, names.alerts, until=lambda r: len(r) >= 1)]
    assert first.kind == "new"

    mute = Feedback(
        id=uuid.uuid4().hex, verdict="mute", story_id=first.story_id, alert_id=first.id, route="CHN|RUS", created_at=utcnow()
    )
    producer.send(names.feedback, key=b"CHN|RUS", value=mute.dumps(serializer="json")).get(15)
    wait_for(lambda: f"muted story {first.story_id}" in worker.output(), 60, lambda: worker.output()[-2000:])

    send_tagged(delivery)
    producer.close()
    decisions = read_topic(bootstrap, names.decisions, until=lambda r: len(r) >= 2, timeout_s=60)
    # The decisions topic has several partitions: records come back in no fixed order across them.
    (last,) = [d for d in (Decision.loads(r.value, serializer="json") for r in decisions) if d.id == DELIVERY.id]
    assert last.story == first.story_id, "the delivery joined the muted story"
    assert (last.alert, last.escalation, last.alert_id) == (False, False, None)
    alerts = read_topic(bootstrap, names.alerts, timeout_s=3)
    assert [Alert.loads(r.value, serializer="json").id for r in alerts] == [first.id], "no escalation after the mute"
    assert f"story {first.story_id} is muted" in worker.output()
