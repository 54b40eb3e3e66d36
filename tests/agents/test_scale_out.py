"""Two workers share the articles topic: one development arriving on partitions owned by
different workers is still one story with one alert (stories live in a table keyed by the
watched pair, so every article of a pair is decided on one partition, whoever tagged it)."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaProducer

from monitor.models import Alert, Decision
from monitor.offline.readers import read_articles
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics
from tests.support.kafka import read_topic
from tests.support.paths import seed

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared

pytestmark = pytest.mark.timeout(240)


def assigned(worker, topic: str) -> set[int] | None:
    """``topic``'s partitions in the worker's latest assignment, once it has recovered from it.

    Tansu's DescribeGroups returns no member assignments, so we read the table Faust logs
    on every assignment ("Setting newly assigned partitions", then "| topic | {0-1, 3} |").
    """
    lines = list(worker.lines)
    starts = [i for i, line in enumerate(lines) if "Setting newly assigned partitions" in line]
    if not starts or not any("Worker ready" in line for line in lines[starts[-1] :]):
        return None
    for line in lines[starts[-1] :]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] == topic:
            return set(_partitions(cells[1]))
    return set()


def _partitions(spec: str):
    for part in spec.strip("{}").split(","):
        first, _, last = part.strip().partition("-")
        yield from range(int(first), int(last or first) + 1)


def split_between(workers, topic: str, partitions: int, timeout_s: float = 60.0) -> list[set[int]]:
    """Each worker's partitions of ``topic`` once the two hold disjoint, non-empty shares of all."""
    deadline = time.monotonic() + timeout_s
    while True:
        shares = [assigned(worker, topic) for worker in workers]
        if all(shares) and set.union(*shares) == set(range(partitions)) and not set.intersection(*shares):
            return shares
        if time.monotonic() > deadline:
            raise AssertionError(f"the workers never split {topic}: {shares}")
        time.sleep(0.5)


def test_one_development_tagged_by_two_workers_is_one_story_with_one_alert(broker_settings, start_worker):
    ensure_topics(broker_settings)
    names = KafkaTopicNames.for_settings(broker_settings)
    workers = [start_worker(), start_worker()]
    mine, theirs = split_between(workers, names.articles, broker_settings.partitions)
    first, second = min(mine), min(theirs)  # 000 is tagged by one worker, 001 by the other

    a000, a001 = read_articles([seed("000"), seed("001")])
    producer = KafkaProducer(bootstrap_servers=broker_settings.bootstrap_servers)
    producer.send(names.articles, key=a000.id.encode(), value=a000.dumps(serializer="json"), partition=first)
    producer.send(names.articles, key=a001.id.encode(), value=a001.dumps(serializer="json"), partition=second)
    producer.flush()
    producer.close()

    bootstrap = broker_settings.bootstrap_servers[0]
    decisions = [
        Decision.loads(r.value, serializer="json")
        for r in read_topic(bootstrap, names.decisions, until=lambda r: len(r) >= 2, timeout_s=120)
    ]
    assert sorted(d.id for d in decisions) == sorted([a000.id, a001.id])
    assert decisions[0].story and decisions[0].story == decisions[1].story, "one development, one story"
    alerts = [
        Alert.loads(r.value, serializer="json")
        for r in read_topic(bootstrap, names.alerts, until=lambda r: len(r) >= 1, timeout_s=30, settle_s=3)
    ]
    assert len(alerts) == 1 and alerts[0].story_id == decisions[0].story
