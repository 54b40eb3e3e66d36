"""Per-feed state that survives a poller restart: validators, schedule and the ids already sent.

SQLite in the data directory: one file, atomic commits, and fine for ten thousand feeds —
the poll loop asks for the due feeds in one indexed query, never one feed at a time.
An item is recorded as sent only after the broker acknowledged it, so a crash between
the two re-sends it (at-least-once; the detect stage recognises a repeat) and never
loses it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS feeds (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_attempt REAL,
    last_success REAL,
    next_due REAL NOT NULL DEFAULT 0,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'active',
    last_error TEXT
);
CREATE TABLE IF NOT EXISTS seen (
    feed TEXT NOT NULL,
    article_id TEXT NOT NULL,
    content_hash TEXT NOT NULL DEFAULT '',
    first_seen REAL NOT NULL,
    PRIMARY KEY (feed, article_id)
);
CREATE INDEX IF NOT EXISTS seen_by_age ON seen (feed, first_seen);
"""
# Columns added after the first release; an older state file gains them on open.
ADDED_COLUMNS = {
    "config_url": "TEXT",
    "parse_errors": "INTEGER NOT NULL DEFAULT 0",
    "ttl_s": "REAL",
    "item_times": "TEXT",
    "item_digests": "BLOB",
    "assigned": "INTEGER NOT NULL DEFAULT 1",
}
COLUMNS = (
    "name",
    "url",
    "etag",
    "last_modified",
    "last_attempt",
    "last_success",
    "next_due",
    "consecutive_errors",
    "status",
    "last_error",
    "config_url",
    "parse_errors",
    "ttl_s",
    "item_times",
    "item_digests",
)
SELECT = f"SELECT {', '.join(COLUMNS)} FROM feeds"
#: Item times remembered per feed to estimate how often it publishes.
KEEP_ITEM_TIMES = 64


@dataclass
class FeedState:
    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: float | None = None
    last_success: float | None = None
    next_due: float = 0.0
    consecutive_errors: int = 0
    status: str = "active"
    last_error: str | None = None
    #: The URL in feeds.yaml this state belongs to (``url`` differs after a permanent move).
    config_url: str | None = None
    parse_errors: int = 0
    #: The feed's own <ttl>, in seconds, from its last parse (a 304 does not repeat it).
    ttl_s: float | None = None
    #: Publication (else first-seen) times of its newest items, newest first.
    item_times: list[float] = field(default_factory=list)
    #: 8-byte digests of the items in the last parsed body (None: not known), so the next
    #: changed body is parsed only where it differs.
    item_digests: frozenset[bytes] | None = None

    @classmethod
    def from_row(cls, row: tuple) -> FeedState:
        state = cls(*row[:-2])
        state.item_times = json.loads(row[-2]) if row[-2] else []
        blob = row[-1]
        state.item_digests = None if blob is None else frozenset(blob[i : i + 8] for i in range(0, len(blob), 8))
        return state

    def to_row(self) -> tuple:
        times = json.dumps(sorted(self.item_times, reverse=True)[:KEEP_ITEM_TIMES]) if self.item_times else None
        return (
            self.name,
            self.url,
            self.etag,
            self.last_modified,
            self.last_attempt,
            self.last_success,
            self.next_due,
            self.consecutive_errors,
            self.status,
            self.last_error,
            self.config_url,
            self.parse_errors,
            self.ttl_s,
            times,
            None if self.item_digests is None else b"".join(sorted(self.item_digests)),
        )


class FeedStateStore:
    """SQLite-backed state of every feed; one store per poller process."""

    def __init__(self, path: Path, keep_per_feed: int = 5_000):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.keep_per_feed = keep_per_feed
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        present = {row[1] for row in self._db.execute("PRAGMA table_info(feeds)")}
        for column, kind in ADDED_COLUMNS.items():
            if column not in present:
                self._db.execute(f"ALTER TABLE feeds ADD COLUMN {column} {kind}")
        self._db.execute("CREATE INDEX IF NOT EXISTS feeds_due ON feeds (assigned, next_due)")
        self._upsert = (
            f"INSERT INTO feeds ({', '.join(COLUMNS)}) VALUES ({','.join('?' * len(COLUMNS))})"
            " ON CONFLICT(name) DO UPDATE SET " + ", ".join(f"{c}=excluded.{c}" for c in COLUMNS if c != "name")
        )

    def close(self) -> None:
        self._db.close()

    def load(self, name: str, url: str) -> FeedState:
        """The stored state of feed ``name``, or a fresh one at ``url``."""
        row = self._db.execute(f"{SELECT} WHERE name = ?", (name,)).fetchone()
        if row is None:
            return FeedState(name=name, url=url, config_url=url)
        return FeedState.from_row(row)

    def save(self, state: FeedState) -> None:
        self._db.execute(self._upsert, state.to_row())

    def sync(self, feeds: Iterable[tuple[str, str]]) -> list[str]:
        """Make the table match this poller's feeds: ``(name, configured url)`` pairs.

        New feeds are due at once; a feed whose configured URL changed starts afresh at
        it (validators, errors, a stored move or a 410 are forgotten); feeds not listed
        (removed from the config, or another replica's) are kept but not polled. Returns
        the names whose URL changed.
        """
        wanted = dict(feeds)
        known = dict(self._db.execute("SELECT name, COALESCE(config_url, url) FROM feeds"))
        changed = [name for name, url in wanted.items() if name in known and known[name] != url]
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute("UPDATE feeds SET assigned = 0")
            self._db.executemany(
                "INSERT INTO feeds (name, url, config_url, next_due, assigned) VALUES (?, ?, ?, 0, 1)"
                " ON CONFLICT(name) DO UPDATE SET assigned = 1",
                [(name, url, url) for name, url in wanted.items()],
            )
            self._db.executemany(
                "UPDATE feeds SET url = ?, config_url = ?, etag = NULL, last_modified = NULL, next_due = 0,"
                " consecutive_errors = 0, parse_errors = 0, status = 'active', last_error = NULL WHERE name = ?",
                [(wanted[name], wanted[name], name) for name in changed],
            )
        return changed

    def due(self, now: float) -> list[FeedState]:
        """Every assigned feed whose next poll is due, soonest first, in one query."""
        rows = self._db.execute(f"{SELECT} WHERE assigned = 1 AND status != 'gone' AND next_due <= ? ORDER BY next_due", (now,))
        return [FeedState.from_row(row) for row in rows]

    def next_due(self) -> float | None:
        """When the next assigned feed falls due (None: nothing left to poll)."""
        (when,) = self._db.execute("SELECT MIN(next_due) FROM feeds WHERE assigned = 1 AND status != 'gone'").fetchone()
        return when

    def status_counts(self) -> dict[str, int]:
        """Assigned feeds by status (active, broken, gone)."""
        return dict(self._db.execute("SELECT status, COUNT(*) FROM feeds WHERE assigned = 1 GROUP BY status"))

    def known_hashes(self, feed: str, article_ids: Iterable[str]) -> dict[str, str]:
        """Content hash of each id already sent for ``feed`` (absent: never sent)."""
        ids = list(article_ids)
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT article_id, content_hash FROM seen WHERE feed = ? AND article_id IN ({marks})",
                (feed, *chunk),
            )
            found.update(rows.fetchall())
        return found

    def mark_sent(self, feed: str, items: Iterable[tuple[str, str]], now: float | None = None) -> None:
        """Record (article id, content hash) pairs as delivered to the broker."""
        now = time.time() if now is None else now
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO seen (feed, article_id, content_hash, first_seen) VALUES (?,?,?,?)"
                " ON CONFLICT(feed, article_id) DO UPDATE SET content_hash=excluded.content_hash",
                [(feed, article_id, digest, now) for article_id, digest in items],
            )
            # Forget the oldest ids beyond the bound: feeds list their latest items only.
            self._db.execute(
                "DELETE FROM seen WHERE feed = ? AND article_id NOT IN"
                " (SELECT article_id FROM seen WHERE feed = ? ORDER BY first_seen DESC LIMIT ?)",
                (feed, feed, self.keep_per_feed),
            )
