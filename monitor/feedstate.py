"""Per-feed state that survives a poller restart: validators and the ids already sent.

SQLite in the data directory: one file, atomic commits, and fine for ten thousand feeds.
An item is recorded as sent only after the broker acknowledged it, so a crash between
the two re-sends it (at-least-once; the detect stage recognises a repeat) and never
loses it.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

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

    def close(self) -> None:
        self._db.close()

    def load(self, name: str, url: str) -> FeedState:
        """The stored state of feed ``name``, or a fresh one at ``url``."""
        row = self._db.execute(
            "SELECT name, url, etag, last_modified, last_attempt, last_success, next_due,"
            " consecutive_errors, status, last_error FROM feeds WHERE name = ?",
            (name,),
        ).fetchone()
        if row is None:
            return FeedState(name=name, url=url)
        return FeedState(*row)

    def save(self, state: FeedState) -> None:
        self._db.execute(
            "INSERT INTO feeds (name, url, etag, last_modified, last_attempt, last_success, next_due,"
            " consecutive_errors, status, last_error) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(name) DO UPDATE SET url=excluded.url, etag=excluded.etag,"
            " last_modified=excluded.last_modified, last_attempt=excluded.last_attempt,"
            " last_success=excluded.last_success, next_due=excluded.next_due,"
            " consecutive_errors=excluded.consecutive_errors, status=excluded.status,"
            " last_error=excluded.last_error",
            (
                state.name, state.url, state.etag, state.last_modified, state.last_attempt,
                state.last_success, state.next_due, state.consecutive_errors, state.status, state.last_error,
            ),
        )

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
