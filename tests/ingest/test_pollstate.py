"""Per-feed state survives a restart; remembered ids are bounded."""

from monitor.ingest.pollstate import FeedState, FeedStateStore


def test_state_and_sent_ids_survive_reopening(tmp_path):
    path = tmp_path / "state.sqlite3"
    store = FeedStateStore(path)
    store.save(FeedState(name="f", url="https://e.org/f", etag='"e1"', last_modified="x", consecutive_errors=2))
    store.mark_sent("f", [("a1", "h1"), ("a2", "h2")])
    store.close()
    reopened = FeedStateStore(path)
    state = reopened.load("f", "https://ignored")
    assert (state.url, state.etag, state.consecutive_errors) == ("https://e.org/f", '"e1"', 2)
    assert reopened.known_hashes("f", ["a1", "a2", "a3"]) == {"a1": "h1", "a2": "h2"}
    assert reopened.known_hashes("other", ["a1"]) == {}


def test_an_unknown_feed_starts_fresh_at_its_configured_url(tmp_path):
    state = FeedStateStore(tmp_path / "s.sqlite3").load("new", "https://e.org/new")
    assert (state.url, state.etag, state.next_due) == ("https://e.org/new", None, 0.0)


def test_only_the_newest_ids_per_feed_are_kept(tmp_path):
    store = FeedStateStore(tmp_path / "s.sqlite3", keep_per_feed=100)
    for batch in range(5):
        store.mark_sent("f", [(f"id{batch}-{i}", "h") for i in range(50)], now=1000.0 + batch)
    known = store.known_hashes("f", [f"id{b}-{i}" for b in range(5) for i in range(50)])
    assert len(known) == 100
    assert all(key.startswith(("id3-", "id4-")) for key in known)


def test_sync_adds_new_feeds_as_due_and_resets_a_feed_whose_configured_url_changed(tmp_path):
    store = FeedStateStore(tmp_path / "s.sqlite3")
    assert store.sync([("a", "https://e.org/a"), ("b", "https://e.org/b")]) == []
    assert sorted(s.name for s in store.due(now=1.0)) == ["a", "b"]
    moved = store.load("a", "")
    moved.url, moved.etag, moved.status, moved.next_due = "https://new.e.org/a", '"x"', "gone", 500.0
    store.save(moved)
    assert store.sync([("a", "https://e.org/a"), ("b", "https://e.org/b")]) == []
    assert store.load("a", "").url == "https://new.e.org/a", "a permanent move survives a restart"
    assert store.sync([("a", "https://e.org/a2"), ("b", "https://e.org/b")]) == ["a"]
    fresh = store.load("a", "")
    assert (fresh.url, fresh.etag, fresh.status, fresh.next_due) == ("https://e.org/a2", None, "active", 0.0)


def test_due_is_one_query_over_assigned_feeds_that_are_not_gone(tmp_path):
    store = FeedStateStore(tmp_path / "s.sqlite3")
    store.sync([(f"f{i}", f"https://e.org/{i}") for i in range(10_000)])
    for name, due, status in (("f1", 50.0, "active"), ("f2", 500.0, "active"), ("f3", 10.0, "gone"), ("f4", 20.0, "broken")):
        state = store.load(name, "")
        state.next_due, state.status = due, status
        store.save(state)
    store.sync([(f"f{i}", f"https://e.org/{i}") for i in range(1, 10_000)])  # f0 removed from the config
    due = store.due(now=100.0)
    names = [s.name for s in due]
    assert "f0" not in names and "f3" not in names and "f2" not in names
    assert names[-2:] == ["f4", "f1"], "soonest first: the never-polled (due at 0) lead"
    assert len(due) == 10_000 - 3  # f0 unassigned, f2 not due yet, f3 gone
    assert store.next_due() == 0.0
    assert store.status_counts() == {"active": 9_997, "gone": 1, "broken": 1}


def test_an_older_state_file_gains_the_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE feeds (name TEXT PRIMARY KEY, url TEXT NOT NULL, etag TEXT, last_modified TEXT,"
        " last_attempt REAL, last_success REAL, next_due REAL NOT NULL DEFAULT 0,"
        " consecutive_errors INTEGER NOT NULL DEFAULT 0, status TEXT NOT NULL DEFAULT 'active', last_error TEXT);"
        "INSERT INTO feeds (name, url, etag) VALUES ('f', 'https://e.org/f', '\"v\"');"
    )
    db.commit()
    db.close()
    store = FeedStateStore(path)
    state = store.load("f", "")
    assert (state.etag, state.parse_errors, state.item_times) == ('"v"', 0, [])
    state.item_times = [3.0, 1.0, 2.0]
    store.save(state)
    assert store.load("f", "").item_times == [3.0, 2.0, 1.0]
