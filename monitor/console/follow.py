"""The console's Kafka consumer: decisions, alerts, feedback and feed statuses into the read model.

A kafka-python consumer in a thread, in its own group (``<app_id>-console``). It assigns
itself every partition and resumes from the positions stored in the read model with the
rows (so deleting ``console.sqlite3`` rebuilds it from the topics' beginning), assigns
again when a topic appears or grows partitions (the console may start first), and commits
them to its group too, so operators see its lag like any consumer's. It also measures, on
a timer, what the health page shows: its own lag, the worker's (from the worker group's
committed offsets) and the dead letters held. Once an hour it deletes the decisions that
nothing came of once they are older than ``console_decision_retention_days``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from monitor.console.store import ReadModel
from monitor.models import Alert, Decision, Feedback, FeedStatus
from monitor.runtime.kafka_topics import KafkaTopicNames, console_group
from monitor.settings import Settings

log = logging.getLogger(__name__)

VITALS_EVERY_S = 10.0
#: How often decisions past their retention are looked for.
PRUNE_EVERY_S = 3600.0
#: How long to wait for a topic to exist before following the others without it.
TOPIC_WAIT_S = 60.0


@dataclass
class Vitals:
    """What the health page shows about the topics, measured by the consumer thread."""

    measured_at: float = 0.0
    #: Messages on the read topics not yet in the read model.
    lag: dict[str, int] = field(default_factory=dict)
    #: Messages on the worker's input topics its group has not committed (None: not measured).
    worker_lag: dict[str, int] | None = None
    dead_letters: int | None = None
    undecodable: int = 0
    #: Decisions deleted after the retention (see ``Follower.prune``).
    pruned: int = 0
    error: str = ""


class Follower:
    """Reads the topics into ``model`` until stopped."""

    def __init__(self, settings: Settings, model: ReadModel, *, topic_wait_s: float = TOPIC_WAIT_S):
        self.settings = settings
        self.topic_wait_s = topic_wait_s
        self.model = model
        self.names = KafkaTopicNames.for_settings(settings)
        self.topics = self.names.read_by_console()
        #: The worker's input topics, whose lag the health page shows.
        self.worker_topics = [self.names.articles, self.names.tagged, self.names.alerts]
        self.group = console_group(settings)
        self.vitals = Vitals()
        self.ready = threading.Event()
        self._admin: KafkaAdminClient | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="console-follow")

    def start(self) -> Follower:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._follow()
            except Exception as exc:  # a broker restart, say: start over from the stored positions
                log.warning("console consumer stopped (%s: %s); reconnecting", type(exc).__name__, exc)
                self.vitals.error = f"{type(exc).__name__}: {exc}"
                self._stopping.wait(2.0)

    def _follow(self) -> None:
        consumer = KafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=self.group,
            client_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        try:
            partitions = self._assign(consumer)
            self.ready.set()
            measured = pruned = 0.0
            while not self._stopping.is_set():
                batches = consumer.poll(timeout_ms=500, max_records=500)
                if batches:
                    self._store(batches)
                    self._commit(consumer)
                if time.monotonic() - pruned > PRUNE_EVERY_S:
                    pruned = time.monotonic()
                    self.prune()
                if time.monotonic() - measured > VITALS_EVERY_S:
                    measured = time.monotonic()
                    self._measure(consumer, partitions)
                    if self._layout_changed(consumer, partitions):
                        # A topic created (the worker started after the console) or partitions
                        # added: assign again, from the positions the read model holds.
                        log.info("console: the topics' partitions changed; following them again")
                        return
        finally:
            consumer.close()
            self._close_admin()

    def _assign(self, consumer: KafkaConsumer) -> list[TopicPartition]:
        partitions: list[TopicPartition] = []
        for topic in self.topics:
            found = None
            # Waited for at the first start only: an assignment again (a topic appeared) takes
            # what exists now rather than stall the others for every topic still missing.
            deadline = time.monotonic() + (0.0 if self.ready.is_set() else self.topic_wait_s)
            found = consumer.partitions_for_topic(topic)
            while not found and not self._stopping.is_set() and time.monotonic() < deadline:
                self._stopping.wait(0.5)  # the worker or `newsmon topics` has not created it yet
                found = consumer.partitions_for_topic(topic)
            if not found:
                log.warning("topic %s does not exist yet: the console follows the others until it does", topic)
            partitions += [TopicPartition(topic, p) for p in sorted(found or ())]
        self.vitals.error = self._missing_error(partitions)
        consumer.assign(partitions)
        if self.model.follow_broker(self.settings.broker_incarnation):
            # A fresh embedded broker (a restart, or a rotation): its topics start again at
            # offset 0 and the stored positions were the old broker's. The rows stay.
            log.info("console: a new broker incarnation; reading its topics from the start")
        stored = self.model.positions()
        for tp in partitions:
            if (tp.topic, tp.partition) in stored:
                consumer.seek(tp, stored[(tp.topic, tp.partition)])
            else:
                consumer.seek_to_beginning(tp)
        return partitions

    def _store(self, batches) -> None:
        alerts, decisions, feedback, feeds = [], [], [], []
        positions = {}
        for tp, records in batches.items():
            for record in records:
                positions[(tp.topic, tp.partition)] = record.offset + 1
                try:
                    if tp.topic == self.names.alerts:
                        alerts.append(Alert.loads(record.value, serializer="json"))
                    elif tp.topic == self.names.decisions:
                        seen = datetime.fromtimestamp(record.timestamp / 1000, UTC)
                        decisions.append((Decision.loads(record.value, serializer="json"), seen))
                    elif tp.topic == self.names.feed_status:
                        feeds.append(FeedStatus.loads(record.value, serializer="json"))
                    else:
                        feedback.append(Feedback.loads(record.value, serializer="json"))
                except Exception as exc:
                    self.vitals.undecodable += 1
                    log.warning(
                        "console skipped an undecodable record at %s:%d@%d: %s", tp.topic, tp.partition, record.offset, exc
                    )
        # Live pages poll the read model for alerts newer than theirs; nothing to notify.
        self.model.store(alerts, decisions, feedback, positions, feeds=feeds)

    def prune(self, today: date | None = None) -> int:
        """Drop the decisions past ``console_decision_retention_days`` that nothing came of."""
        days = self.settings.console_decision_retention_days
        if not days:
            return 0
        today = today or datetime.now(UTC).date()
        try:
            deleted = self.model.prune_decisions(today - timedelta(days=days))
        except sqlite3.Error as exc:  # a busy or full disk: reading the topics goes on
            log.warning("console: could not delete old decisions: %s", exc)
            return 0
        if deleted:
            log.info("console: %d decisions older than %d days with no alert deleted", deleted, days)
        self.vitals.pruned += deleted
        return deleted

    def _commit(self, consumer: KafkaConsumer) -> None:
        offsets = {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in self.model.positions().items()}
        try:
            consumer.commit(offsets)
        except (KafkaError, AssertionError, ValueError) as exc:
            # The read model holds the positions; the group's copy is for operators only.
            log.debug("console offsets not committed to the group: %s", exc)

    def _measure(self, consumer: KafkaConsumer, partitions: list[TopicPartition]) -> None:
        try:
            ends = consumer.end_offsets(partitions)
            dead = [TopicPartition(self.names.deadletter, p) for p in consumer.partitions_for_topic(self.names.deadletter) or ()]
            dead_ends = consumer.end_offsets(dead) if dead else {}
            dead_starts = consumer.beginning_offsets(dead) if dead else {}
        except (KafkaError, AssertionError) as exc:
            self.vitals.error = f"{type(exc).__name__}: {exc}"
            return
        stored = self.model.positions()
        lag: dict[str, int] = {}
        for tp, end in ends.items():
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end - stored.get((tp.topic, tp.partition), 0))
        self.vitals.lag = lag
        self.vitals.worker_lag = self._worker_lag(consumer)
        self.vitals.dead_letters = sum(dead_ends[tp] - dead_starts.get(tp, 0) for tp in dead_ends) if dead else None
        self.vitals.measured_at = time.time()
        self.vitals.error = self._missing_error(partitions)

    def _missing_error(self, partitions: list[TopicPartition]) -> str:
        """The read topics the assignment lacks (followed once they appear), for the health page."""
        assigned = {tp.topic for tp in partitions}
        missing = [topic for topic in self.topics if topic not in assigned]
        return f"topic {', '.join(missing)} missing (run `newsmon topics`)" if missing else ""

    def _layout_changed(self, consumer: KafkaConsumer, partitions: list[TopicPartition]) -> bool:
        """Whether a read topic now has partitions the assignment lacks (kafka-python asks the
        broker again for a topic it has no metadata of, so a new topic is seen on this tick)."""
        assigned = set(partitions)
        try:
            return any(
                TopicPartition(topic, p) not in assigned for topic in self.topics for p in consumer.partitions_for_topic(topic)
            )
        except (KafkaError, AssertionError) as exc:
            log.debug("topic layout not checked: %s", exc)
            return False

    def _worker_lag(self, consumer: KafkaConsumer) -> dict[str, int] | None:
        """The worker group's lag per input topic, from its committed offsets; None if unknown."""
        partitions = [
            TopicPartition(topic, p) for topic in self.worker_topics for p in consumer.partitions_for_topic(topic) or ()
        ]
        try:
            if self._admin is None:
                self._admin = KafkaAdminClient(bootstrap_servers=self.settings.bootstrap_servers, client_id=self.group)
            committed = self._admin.list_group_offsets({self.settings.app_id: partitions}).get(self.settings.app_id, {})
            ends = consumer.end_offsets(partitions) if partitions else {}
            starts = consumer.beginning_offsets(partitions) if partitions else {}
        except Exception as exc:  # a measurement for a page: never a reason to stop following
            log.debug("worker lag not measured: %s: %s", type(exc).__name__, exc)
            self._close_admin()
            return None
        lag: dict[str, int] = {}
        for tp, end in ends.items():
            done = committed.get(tp)
            # A partition the group never committed: everything from its start is still to do.
            position = done.offset if done is not None and done.offset >= 0 else starts.get(tp, 0)
            lag[tp.topic] = lag.get(tp.topic, 0) + max(0, end - position)
        return lag

    def _close_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            try:
                admin.close()
            except Exception as exc:  # closing a broken connection: nothing left to save
                log.debug("admin client not closed cleanly: %s", exc)
