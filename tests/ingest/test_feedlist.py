"""Splitting feeds between poller replicas: every feed has exactly one poller, and few move."""

from collections import Counter

from monitor.ingest.feedlist import FeedConfig
from monitor.ingest.replicas import owned_by, replica_of

NAMES = [f"feed-{i:05d}" for i in range(10_000)]


def test_every_feed_is_polled_by_exactly_one_replica():
    feeds = [FeedConfig(name=n, url=f"https://e.org/{n}") for n in NAMES[:3000]]
    shares = [owned_by(feeds, replica, 3) for replica in range(3)]
    names = [f.name for share in shares for f in share]
    assert sorted(names) == sorted(f.name for f in feeds), "no feed twice, none left out"
    assert all(800 < len(share) < 1200 for share in shares), [len(s) for s in shares]


def test_the_owner_of_a_feed_is_fixed_by_its_name_and_the_replica_count_in_every_process():
    # Literals computed once: a salted hash() or another hash function would move feeds
    # between replicas on every restart, and fail here.
    assert [replica_of(n, 4) for n in NAMES[:10]] == [2, 0, 3, 0, 2, 2, 0, 2, 0, 3]
    assert [replica_of(n, 5) for n in NAMES[:10]] == [4, 0, 3, 0, 4, 2, 0, 2, 0, 3]
    assert [replica_of(n, 3) for n in ("harbour-times", "coastal-herald", "rail-gazette")] == [0, 2, 0]
    assert {replica_of(n, 1) for n in NAMES} == {0}


def test_adding_a_replica_moves_only_the_feeds_it_takes_over():
    before = {n: replica_of(n, 4) for n in NAMES}
    after = {n: replica_of(n, 5) for n in NAMES}
    moved = [n for n in NAMES if before[n] != after[n]]
    assert all(after[n] == 4 for n in moved), "a feed only ever moves to the new replica"
    assert 0.15 < len(moved) / len(NAMES) < 0.25  # about 1/5
    assert max(Counter(after.values()).values()) < 1.15 * len(NAMES) / 5
