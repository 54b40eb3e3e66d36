"""Table recovery on the real broker: a worker knows every entry of its changelogs when it
starts, including those written together in one record batch (Tansu reports the end of
such a partition short; see agents/at_least_once.py, guard 3)."""

from __future__ import annotations

import json
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from monitor.runtime.kafka_topics import KafkaTopicNames, admin_client, ensure_topics
from tests.support.alerts import make_alerts, write_sinks_yaml
from tests.support.receivers import SlackReceiver, WebhookReceiver
from tests.support.waiting import SECRET, wait_for

pytestmark = pytest.mark.timeout(180)


def test_a_restarted_worker_recovers_every_ledger_entry_of_a_batch_and_sends_nothing_twice(broker_settings, start_worker):
    """Six alerts are in the ledger as delivered to both sinks, written as one record batch (as a
    worker writes them in a burst); the alerts come again: none is sent, two new ones are."""
    ensure_topics(broker_settings)
    names = KafkaTopicNames.for_settings(broker_settings)
    changelog = f"{broker_settings.app_id}-deliveries-changelog"
    admin = admin_client(broker_settings)
    admin.create_topics([NewTopic(changelog, broker_settings.partitions, broker_settings.replication_factor)])
    admin.close()

    known, fresh = make_alerts(6), make_alerts(2, prefix="fresh")
    producer = KafkaProducer(bootstrap_servers=broker_settings.bootstrap_servers, linger_ms=200)
    for alert in known:
        for sink in ("slack", "hook"):
            entry = {"state": "delivered", "at": time.time(), "ref": None}
            producer.send(changelog, key=json.dumps(f"{alert.id}|{sink}").encode(), value=json.dumps(entry).encode(), partition=0)
    producer.flush()
    tp = TopicPartition(changelog, 0)
    end = KafkaConsumer(bootstrap_servers=broker_settings.bootstrap_servers).end_offsets([tp])[tp]
    assert end < 12, "premise: the broker reports the end of a multi-record batch short"

    with SlackReceiver(min_interval_s=0.05) as slack, WebhookReceiver(SECRET) as hook:
        write_sinks_yaml(
            broker_settings.config_dir,
            slack_url=f"{slack.url}/services/T0/B0/secret",
            slack_rate=20,
            webhook_url=f"{hook.url}/newsmon",
            secret=SECRET,
        )
        start_worker()
        for alert in known + fresh:
            producer.send(names.alerts, key=alert.story_id.encode(), value=alert.dumps(serializer="json"), partition=0)
        producer.flush()
        new_ids = {alert.id for alert in fresh}
        wait_for(lambda: new_ids <= set(slack.alert_ids()) and new_ids <= hook.unique_ids(), 60, "the new alerts delivered")
        time.sleep(3)  # a known alert would come right behind them

        assert sorted(slack.alert_ids()) == sorted(new_ids)
        assert hook.unique_ids() == new_ids and len(hook.delivered()) == len(new_ids)
