"""Topic creation with kafka-python's admin: all newsmon topics, configured partitions, idempotent."""

from monitor.runtime.kafka_topics import KafkaTopicNames, admin_client, ensure_topics


def test_creates_every_topic_once_with_the_configured_partitions(broker_settings):
    settings = broker_settings.with_overrides(partitions=3)
    names = KafkaTopicNames.for_settings(settings)
    assert sorted(ensure_topics(settings)) == sorted(names.all())
    assert ensure_topics(settings) == []
    admin = admin_client(settings)
    try:
        described = admin.describe_topics(names.all())
    finally:
        admin.close()
    assert {d["name"]: len(d["partitions"]) for d in described} == {name: 3 for name in names.all()}
