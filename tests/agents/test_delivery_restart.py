"""Delivery through a real worker on the real broker: kill -9 mid-delivery loses nothing
and duplicates at most the one message in flight."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaProducer, TopicPartition

from monitor.runtime.kafka_topics import KafkaTopicNames, admin_client, ensure_topics
from tests.support.alerts import make_alerts, write_sinks_yaml
from tests.support.receivers import SlackReceiver, WebhookReceiver
from tests.support.waiting import SECRET, wait_for
from tests.support.worker import running

pytestmark = pytest.mark.timeout(280)


def committed(admin, group: str, topic: str, partitions: int) -> int:
    """How many of ``topic``'s messages consumer group ``group`` has committed, all partitions."""
    offsets = admin.list_group_offsets({group: [TopicPartition(topic, p) for p in range(partitions)]})[group]
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


def test_kill_9_during_delivery_loses_nothing_and_duplicates_at_most_the_one_in_flight(broker_settings, start_worker):
    """40 alerts; the worker is SIGKILLed mid-burst, after its first offset commit, and restarted:
    every alert reaches Slack and the webhook, Slack sees at most one twice, and after dedup by
    webhook-id there is exactly one each. The killed worker leaves no process behind."""
    ensure_topics(broker_settings)
    names = KafkaTopicNames.for_settings(broker_settings)
    alerts = make_alerts(40)
    with SlackReceiver(min_interval_s=0.2) as slack, WebhookReceiver(SECRET, delay_s=0.1) as hook:
        write_sinks_yaml(
            broker_settings.config_dir,
            slack_url=f"{slack.url}/services/T0/B0/secret",
            slack_rate=5,
            webhook_url=f"{hook.url}/newsmon",
            secret=SECRET,
        )
        worker = start_worker()
        producer = KafkaProducer(bootstrap_servers=broker_settings.bootstrap_servers)
        for alert in alerts:
            producer.send(names.alerts, key=alert.story_id.encode(), value=alert.dumps(serializer="json"))
        producer.flush()
        wait_for(lambda: len(slack.accepted()) >= 12, 60, "a dozen Slack messages before the kill")
        # Kill after a commit, so the restart resumes from committed offsets with a backlog
        # (the case in which Faust lost an alert; without a commit it starts from offset 0).
        admin = admin_client(broker_settings)
        group = (admin, broker_settings.app_id, names.alerts, broker_settings.partitions)
        wait_for(lambda: committed(*group) > 0, 30, "the worker's first commit")
        at_commit = committed(*group)
        admin.close()
        children = worker.descendants()
        worker.kill()
        at_kill = (len(slack.accepted()), len(hook.delivered()))
        assert children, "the worker runs its tag pool in a child process"
        wait_for(lambda: not running(children), 10, lambda: f"the killed worker's children {sorted(children)} to exit")
        start_worker()
        expected = {alert.id for alert in alerts}
        wait_for(
            lambda: set(slack.alert_ids()) == expected and hook.unique_ids() == expected,
            150,
            lambda: (
                f"every alert delivered; missing on Slack {sorted(expected - set(slack.alert_ids()))}, "
                f"on the webhook {sorted(expected - hook.unique_ids())}"
            ),
        )
        time.sleep(3)  # catch a late duplicate

        slack_ids = slack.alert_ids()
        duplicates = len(slack_ids) - len(set(slack_ids))
        print(
            f"kill -9 after {at_kill[0]} Slack / {at_kill[1]} webhook deliveries, {at_commit} alerts committed; "
            f"Slack {len(slack_ids)} messages for {len(expected)} alerts ({duplicates} duplicate); "
            f"webhook {len(hook.delivered())} requests, {len(hook.unique_ids())} unique ids"
        )
        assert at_kill[0] < len(alerts), "the kill must happen while alerts are still being delivered"
        assert set(slack_ids) == expected
        assert duplicates <= 1
        assert slack.too_fast == 0 and slack.early == 0 and not slack.invalid
        assert not hook.rejected, "every webhook request verifies"
        assert hook.unique_ids() == expected
        assert len(hook.delivered()) - len(expected) <= 1
