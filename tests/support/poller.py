"""A poller on the test's broker, and what it published (shared by the ingest tests)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from monitor.ingest.poll import Poller
from monitor.ingest.pollstate import FeedStateStore
from monitor.models import Article
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics, make_producer
from monitor.runtime.metrics import Metrics
from monitor.runtime.poller import KafkaPublisher
from tests.support.kafka import read_topic


def make_poller(settings, feeds, registry=None):
    ensure_topics(settings)
    store = FeedStateStore(settings.data_dir / "state.sqlite3")
    names = KafkaTopicNames.for_settings(settings)
    publisher = KafkaPublisher(make_producer(settings), names.articles, names.feed_status)
    return Poller(settings, feeds, publisher, store, Metrics(registry or CollectorRegistry())), store


def articles_on_topic(settings, expected: int):
    records = read_topic(
        settings.bootstrap_servers[0],
        KafkaTopicNames.for_settings(settings).articles,
        until=lambda r: len(r) >= expected,
        timeout_s=10,
        settle_s=1,
    )
    return [Article.loads(r.value, serializer="json") for r in records]
