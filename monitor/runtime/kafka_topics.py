"""Kafka topics: their names, in one place, and their creation with kafka-python's admin.

Topic flow: poller → ``articles`` → tag → ``tagged`` → detect → ``decisions`` (every
article's outcome) and ``alerts`` (the outbox) → deliver → sinks; anything a stage cannot
process goes to ``deadletter`` with its cause. The console reads decisions and alerts, and writes analysts'
judgements to ``feedback``, whose mutes the detect stage honours. The poller also writes each feed's
last poll to ``feed-status``, for the console's health page.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from monitor.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KafkaTopicNames:
    articles: str
    tagged: str
    decisions: str
    alerts: str
    deadletter: str
    #: Retries, digests and operator replays of deliveries, and the ticks that drive them.
    delivery_retries: str = ""
    #: Analysts' judgements from the console; the detect stage reads its mutes.
    feedback: str = ""
    #: Each feed's last poll (the poller's), for the console's health page.
    feed_status: str = ""

    @classmethod
    def for_settings(cls, settings: Settings) -> KafkaTopicNames:
        prefix = settings.topic_prefix
        return cls(
            articles=f"{prefix}-articles",
            tagged=f"{prefix}-tagged",
            decisions=f"{prefix}-decisions",
            alerts=f"{prefix}-alerts",
            deadletter=f"{prefix}-deadletter",
            delivery_retries=f"{prefix}-delivery-retries",
            feedback=f"{prefix}-feedback",
            feed_status=f"{prefix}-feed-status",
        )

    def read_by_worker(self) -> list[str]:
        """The topics the worker's agents consume, in its consumer group (``app_id``)."""
        return [self.articles, self.tagged, self.alerts, self.delivery_retries, self.feedback]

    def read_by_console(self) -> list[str]:
        """The topics the console follows into its read model (group ``console_group``)."""
        return [self.decisions, self.alerts, self.feedback] + ([self.feed_status] if self.feed_status else [])

    def all(self) -> list[str]:
        return (
            [self.articles, self.tagged, self.decisions, self.alerts, self.deadletter]
            + ([self.delivery_retries] if self.delivery_retries else [])
            + ([self.feedback] if self.feedback else [])
            + ([self.feed_status] if self.feed_status else [])
        )


def console_group(settings: Settings) -> str:
    """The console's consumer group: its positions live in its read model, and are committed here too."""
    return f"{settings.app_id}-console"


def admin_client(settings: Settings, timeout_s: float = 30.0) -> KafkaAdminClient:
    """An admin client, retrying while the broker is still coming up."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id=f"{settings.app_id}-admin")
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def ensure_topics(settings: Settings) -> list[str]:
    """Create any missing newsmon topic with the configured partitions; return those created."""
    names = KafkaTopicNames.for_settings(settings).all()
    admin = admin_client(settings)
    try:
        existing = set(admin.list_topics())
        missing = [name for name in names if name not in existing]
        if not missing:
            return []
        new = [NewTopic(name, settings.partitions, settings.replication_factor) for name in missing]
        try:
            admin.create_topics(new)
        except TopicAlreadyExistsError:
            pass  # another process (a second worker or poller) created them first
        log.info("created topics %s with %d partitions", ", ".join(missing), settings.partitions)
        return missing
    finally:
        admin.close()


def make_producer(settings: Settings) -> KafkaProducer:
    """The kafka-python producer of standalone processes (the poller, operator tools).

    acks=all and retries: an article is only marked as sent once the broker has it.
    """
    return KafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=f"{settings.app_id}-poller",
        acks="all",
        # Tansu, the embedded broker, has no idempotent producer; sinks dedupe instead.
        enable_idempotence=False,
        retries=5,
        linger_ms=20,
        max_request_size=16 * 1024 * 1024,
        compression_type=None,
    )


__all__ = ["KafkaTopicNames", "ensure_topics", "make_producer", "admin_client", "console_group", "KafkaError"]
