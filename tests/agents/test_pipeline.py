"""End to end on real components: loopback feed → poller → Tansu → Faust worker → alerts topic."""

from __future__ import annotations

import asyncio
import json

import pytest
from prometheus_client import CollectorRegistry

from monitor.ingest.feedlist import FeedConfig
from monitor.ingest.poll import Poller
from monitor.ingest.pollstate import FeedStateStore
from monitor.models import Alert, Decision
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics, make_producer
from monitor.runtime.metrics import Metrics
from monitor.runtime.poller import KafkaPublisher
from tests.support.feedbuild import rss_from_files
from tests.support.kafka import read_topic
from tests.support.paths import SEEDS, seed

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = [pytest.mark.shared, pytest.mark.timeout(240)]


def _poller(settings, url: str) -> Poller:
    feeds = [FeedConfig(name="seeds", url=url, source="Seed Wire")]
    store = FeedStateStore(settings.data_dir / "poller.sqlite3")
    publisher = KafkaPublisher(make_producer(settings), KafkaTopicNames.for_settings(settings).articles)
    return Poller(settings, feeds, publisher, store, Metrics(CollectorRegistry()))


def test_seed_feed_alerts_once_for_000_and_001_not_on_004_and_repoll_sends_nothing(broker_settings, httpserver, start_worker):
    """000 and 001 are one story with one alert (whichever the worker saw first) carrying a
    sentence of its article; 002 and 004 are one story and 004 raises no alert; a second poll
    adds nothing."""
    seeds = sorted(SEEDS.glob("*.txt"))
    httpserver.expect_request("/feed.xml").respond_with_data(rss_from_files(seeds), content_type="application/rss+xml")
    ensure_topics(broker_settings)
    names = KafkaTopicNames.for_settings(broker_settings)
    start_worker()

    poller = _poller(broker_settings, httpserver.url_for("/feed.xml"))
    (first,) = asyncio.run(poller.run_once())
    assert (first.outcome, first.new) == ("ok", 5)

    decisions = read_topic(broker_settings.bootstrap_servers[0], names.decisions, until=lambda r: len(r) >= 5, timeout_s=90)
    by_id = {d.title: d for d in (Decision.loads(r.value, serializer="json") for r in decisions)}
    assert len(decisions) == 5, "every polled article gets exactly one decision"

    alerts = [
        Alert.loads(r.value, serializer="json")
        for r in read_topic(broker_settings.bootstrap_servers[0], names.alerts, until=lambda r: len(r) >= 1, settle_s=3)
    ]
    rome = [a for a in alerts if a.url.endswith((seed("000").stem, seed("001").stem))]
    assert len(rome) == 1, "000 and 001 report one development: one alert between them"
    (alert,) = rome
    text = seed("000" if alert.url.endswith(seed("000").stem) else "001").read_text()
    assert any(item.sentence in " ".join(text.split()) for item in alert.evidence)
    assert alert.kind == "new" and "military_aid" in alert.topics and alert.rule
    assert {"RUS", "CHN"} <= set(alert.actors)
    assert any(c.subject == "RUS" and c.action == "request" and c.object == "CHN" for c in alert.claims)
    assert not [a for a in alerts if a.url.endswith(seed("004").stem)], "004 must raise no alert"
    story_of = {title[:20]: d.story for title, d in by_id.items()}
    title_000, title_001 = (next(t for t in by_id if t.startswith(p)) for p in ("Top diplomats", "US says Russia"))
    assert by_id[title_000].story == by_id[title_001].story
    title_004 = [t for t in by_id if t.startswith("China, Russia leaders")]
    assert title_004 and by_id[title_004[0]].relevant is False
    title_002 = [t for t in by_id if t.startswith("The leaders will discuss")]
    assert title_002 and by_id[title_002[0]].story == by_id[title_004[0]].story, story_of

    (second,) = asyncio.run(poller.run_once())
    assert (second.outcome, second.new, second.updated) == ("ok", 0, 0)
    raw = read_topic(broker_settings.bootstrap_servers[0], names.articles, timeout_s=3)
    assert len(raw) == 5, "the second poll produced nothing new"


def test_poison_message_is_dead_lettered_and_the_stream_goes_on(broker_settings, start_worker):
    """Bytes that are not an article go to the dead-letter topic with the cause; the next article is processed."""
    from kafka import KafkaProducer

    from monitor.offline.readers import read_articles

    ensure_topics(broker_settings)
    names = KafkaTopicNames.for_settings(broker_settings)
    start_worker()
    producer = KafkaProducer(bootstrap_servers=broker_settings.bootstrap_servers)
    producer.send(names.articles, key=b"poison", value=b"\x00not json at all")
    (article,) = read_articles([seed("000")])
    producer.send(names.articles, key=article.id.encode(), value=article.dumps(serializer="json"))
    producer.flush()

    letters = read_topic(broker_settings.bootstrap_servers[0], names.deadletter, until=lambda r: len(r) >= 1)
    assert len(letters) == 1
    letter = json.loads(letters[0].value)
    assert letter["stage"] == "tag" and letter["reason"] == "undecodable"
    assert "not json at all" in letter["payload"] and letter["error"]
    decisions = read_topic(broker_settings.bootstrap_servers[0], names.decisions, until=lambda r: len(r) >= 1, timeout_s=60)
    assert [Decision.loads(r.value, serializer="json").id for r in decisions] == [article.id]
