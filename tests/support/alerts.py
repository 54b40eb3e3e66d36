"""Alerts and sinks.yaml for the delivery tests."""

from __future__ import annotations

from pathlib import Path

import yaml
from kafka import KafkaProducer

from monitor.models import Alert, Evidence, utcnow
from monitor.runtime.kafka_topics import KafkaTopicNames


def make_alerts(count: int, *, prefix: str = "alert") -> list[Alert]:
    """``count`` distinct alerts, spread over many stories (so over every partition)."""
    return [
        Alert(
            id=f"{prefix}-{n:04d}",
            story_id=f"story-{n:04d}",
            kind="new",
            headline=f"Russia asks China for drones, report {n}",
            topics=["military_aid"],
            actors=["CHN", "RUS"],
            rule="pair-sentence-trigger",
            evidence=[Evidence(sentence=f"Russia asked China for drones ({n}).", index=0, actors=["CHN", "RUS"])],
            source="Wire",
            url=f"https://news.example.org/{n}",
            first_seen=utcnow(),
            created_at=utcnow(),
        )
        for n in range(count)
    ]


def write_sinks_yaml(
    config_dir: Path,
    *,
    slack_url: str,
    slack_rate: float,
    webhook_url: str,
    secret: str,
    retry_delays_s=(1, 2, 4),
    extra: list[dict] | None = None,
) -> None:
    """sinks.yaml with a Slack and a webhook sink on loopback (allowed explicitly)."""
    loopback = ["127.0.0.0/8"]
    sinks = [
        {
            "type": "slack",
            "name": "slack",
            "webhook_url": slack_url,
            "rate_per_s": slack_rate,
            "allow_networks": loopback,
            "retry_delays_s": list(retry_delays_s),
        },
        {
            "type": "webhook",
            "name": "hook",
            "url": webhook_url,
            "secret": secret,
            "allow_networks": loopback,
            "retry_delays_s": list(retry_delays_s),
        },
    ] + (extra or [])
    (config_dir / "sinks.yaml").write_text(yaml.safe_dump({"sinks": sinks}))


def send_alerts(settings, alerts: list[Alert]) -> None:
    """Produce ``alerts`` to the alerts topic of ``settings``, keyed by story as detect does."""
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    for alert in alerts:
        producer.send(
            KafkaTopicNames.for_settings(settings).alerts, key=alert.story_id.encode(), value=alert.dumps(serializer="json")
        )
    producer.flush()
    producer.close()
