"""Per-feed state survives a restart; remembered ids are bounded."""

from monitor.feedstate import FeedState, FeedStateStore


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
