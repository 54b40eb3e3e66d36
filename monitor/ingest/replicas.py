"""Several pollers share the feeds: which replica polls which feed (rendezvous hashing)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from monitor.ingest.feedlist import FeedConfig


def replica_of(feed_name: str, replicas: int) -> int:
    """The poller replica (0 … replicas-1) that polls ``feed_name``.

    Rendezvous (highest-random-weight) hashing: every replica computes the same owner
    without talking to the others, each feed has exactly one, and adding or removing a
    replica moves only the feeds that must move (about 1/n of them).
    """
    if replicas <= 1:
        return 0

    def weight(replica: int) -> bytes:
        return hashlib.blake2b(f"{replica}\x1f{feed_name}".encode(), digest_size=8).digest()

    return max(range(replicas), key=weight)


def owned_by(feeds: Iterable[FeedConfig], replica: int, replicas: int) -> list[FeedConfig]:
    """The feeds replica ``replica`` of ``replicas`` polls."""
    return [feed for feed in feeds if replica_of(feed.name, replicas) == replica]
