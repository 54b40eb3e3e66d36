"""The console's read model: SQLite tables of alerts, decisions, feedback and feed statuses.

Every write is an upsert by the record's id, so reading a topic again (a rebuild, or a
restart that re-reads the last batch) changes nothing. Each batch is stored together with
the topic positions it came from, in one transaction: the file alone says where to resume.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from monitor.models import Alert, Decision, Feedback, FeedStatus, plain

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    story_id TEXT NOT NULL,
    kind TEXT, headline TEXT, severity TEXT, rule TEXT, source TEXT, url TEXT,
    first_source TEXT, corroboration INTEGER, topics TEXT, actors TEXT,
    created_at TEXT, day TEXT, record TEXT
);
CREATE INDEX IF NOT EXISTS alerts_story ON alerts(story_id);
CREATE TABLE IF NOT EXISTS decisions (
    id TEXT PRIMARY KEY,
    story TEXT, relevant INTEGER, alert INTEGER, alert_id TEXT,
    title TEXT, source TEXT, url TEXT, topics TEXT, actors TEXT,
    seen_at TEXT, day TEXT, record TEXT
);
CREATE INDEX IF NOT EXISTS decisions_story ON decisions(story);
CREATE INDEX IF NOT EXISTS decisions_day ON decisions(day);
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    verdict TEXT NOT NULL, story_id TEXT, alert_id TEXT, article_id TEXT, route TEXT, note TEXT,
    created_at TEXT
);
CREATE TABLE IF NOT EXISTS feeds (
    feed TEXT PRIMARY KEY,
    outcome TEXT, ok INTEGER, status TEXT, error TEXT, consecutive_errors INTEGER, new INTEGER, updated INTEGER,
    checked_at TEXT, last_success TEXT
);
CREATE TABLE IF NOT EXISTS positions (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS broker (
    id INTEGER PRIMARY KEY CHECK (id = 0), incarnation TEXT NOT NULL
);
"""

#: Full-text search over headlines and evidence, when this SQLite has FTS5.
FTS_SCHEMA = "CREATE VIRTUAL TABLE IF NOT EXISTS alert_text USING fts5(alert_id UNINDEXED, headline, evidence)"


def iso(value: datetime | None) -> str:
    """A UTC ISO-8601 string ("" for none), so text order is time order."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


class ReadModel:
    """One SQLite file shared by the consumer thread and the request handlers."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # One connection guarded by a lock: writes are small and SQLite serialises them anyway.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        try:
            self._db.execute(FTS_SCHEMA)
            self.fts = True
        except sqlite3.OperationalError:
            self.fts = False  # queries fall back to LIKE

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    # --- writes --------------------------------------------------------------------------
    def store(
        self,
        alerts: Sequence[Alert] = (),
        decisions: Sequence[tuple[Decision, datetime]] = (),
        feedback: Sequence[Feedback] = (),
        positions: dict[tuple[str, int], int] | None = None,
        *,
        feeds: Sequence[FeedStatus] = (),
    ) -> int:
        """Upsert a batch and the positions it was read up to; return how many alerts were new."""
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                new = sum(self._alert(alert) for alert in alerts)
                for decision, seen_at in decisions:
                    self._decision(decision, seen_at)
                for item in feedback:
                    self._feedback(item)
                for status in feeds:
                    self._feed(status)
                for (topic, partition), offset in (positions or {}).items():
                    db.execute(
                        "INSERT INTO positions VALUES (?, ?, ?) ON CONFLICT(topic, partition) DO UPDATE SET next_offset = excluded.next_offset",
                        (topic, partition, offset),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return new

    def _alert(self, alert: Alert) -> bool:
        when = alert.created_at or alert.first_seen or alert.published
        row = (
            alert.story_id, alert.kind, alert.headline, alert.severity, alert.rule, alert.source, alert.url,
            alert.first_source or alert.source, alert.corroboration, json.dumps(alert.topics), json.dumps(alert.actors),
            iso(when), iso(when)[:10], json.dumps(plain(alert), ensure_ascii=False),
        )  # fmt: skip
        cursor = self._db.execute(
            "UPDATE alerts SET story_id=?, kind=?, headline=?, severity=?, rule=?, source=?, url=?, first_source=?,"
            " corroboration=?, topics=?, actors=?, created_at=?, day=?, record=? WHERE id=?",
            (*row, alert.id),
        )
        if cursor.rowcount:
            return False
        self._db.execute(
            "INSERT INTO alerts (story_id, kind, headline, severity, rule, source, url, first_source, corroboration,"
            " topics, actors, created_at, day, record, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, alert.id),
        )
        if self.fts:
            evidence = " ".join(item.sentence for item in alert.evidence)
            self._db.execute("INSERT INTO alert_text VALUES (?, ?, ?)", (alert.id, alert.headline, evidence))
        return True

    def _decision(self, decision: Decision, seen_at: datetime) -> None:
        self._db.execute(
            "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
            " story=excluded.story, relevant=excluded.relevant, alert=excluded.alert, alert_id=excluded.alert_id,"
            " title=excluded.title, source=excluded.source, url=excluded.url, topics=excluded.topics,"
            " actors=excluded.actors, record=excluded.record",
            (
                decision.id, decision.story, int(decision.relevant), int(decision.alert), decision.alert_id,
                decision.title, decision.source, decision.url, json.dumps(decision.topics), json.dumps(decision.actors),
                iso(seen_at), iso(seen_at)[:10], json.dumps(plain(decision), ensure_ascii=False),
            ),
        )  # fmt: skip

    def _feedback(self, item: Feedback) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (item.id, item.verdict, item.story_id, item.alert_id, item.article_id, item.route, item.note, iso(item.created_at)),
        )

    def _feed(self, status: FeedStatus) -> None:
        # Only a newer poll replaces what is shown: re-reading the topic never goes back in time.
        self._db.execute(
            "INSERT INTO feeds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(feed) DO UPDATE SET"
            " outcome=excluded.outcome, ok=excluded.ok, status=excluded.status, error=excluded.error,"
            " consecutive_errors=excluded.consecutive_errors, new=excluded.new, updated=excluded.updated,"
            " checked_at=excluded.checked_at, last_success=excluded.last_success"
            " WHERE excluded.checked_at >= feeds.checked_at",
            (
                status.feed, status.outcome, int(status.ok), status.status, status.error, status.consecutive_errors,
                status.new, status.updated, iso(status.checked_at), iso(status.last_success),
            ),
        )  # fmt: skip

    def prune_decisions(self, before: date) -> int:
        """Delete the decisions of days before ``before`` that nothing came of: not relevant,
        no alert, not in a story that raised one (its page lists all its articles), and not
        judged by an analyst (the article or its story).

        Every article's decision lands here, relevant or not, so without this the file grows
        by every article polled for as long as the console runs; what an analyst comes back
        to (alerts, their stories, relevant articles, feedback) is kept. Returns how many.
        """
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM decisions WHERE day < ? AND relevant = 0 AND alert = 0"
                " AND (story IS NULL OR story NOT IN (SELECT story_id FROM alerts))"
                # What an analyst judged stays readable beside the judgement: the article, or
                # every article of the story. NOT EXISTS: feedback's ids may be NULL.
                " AND NOT EXISTS (SELECT 1 FROM feedback f WHERE f.article_id = decisions.id"
                " OR (decisions.story IS NOT NULL AND f.story_id = decisions.story))",
                (before.isoformat(),),
            )
            return cursor.rowcount

    def follow_broker(self, incarnation: str) -> bool:
        """Keep the positions only if they were read from broker ``incarnation`` (see
        ``Settings.broker_incarnation``); forget them otherwise. True when they were forgotten.

        A file from before incarnations were recorded counts as Kafka's (no incarnation).
        """
        with self._lock:
            db = self._db
            db.execute("BEGIN")
            try:
                row = db.execute("SELECT incarnation FROM broker WHERE id = 0").fetchone()
                changed = (row[0] if row else "") != incarnation
                if changed:
                    db.execute("DELETE FROM positions")
                db.execute(
                    "INSERT INTO broker VALUES (0, ?) ON CONFLICT(id) DO UPDATE SET incarnation = excluded.incarnation",
                    (incarnation,),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return changed

    def positions(self) -> dict[tuple[str, int], int]:
        """Where each topic partition was read up to (the next offset to read)."""
        return {(row["topic"], row["partition"]): row["next_offset"] for row in self.query("SELECT * FROM positions")}
