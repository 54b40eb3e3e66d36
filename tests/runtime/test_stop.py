"""Stopping ``newsmon run`` with Ctrl-C loses nothing the poller sent: the memory-only broker
goes with the daemon and the poller never sends an item twice, so every article it recorded
as sent must be decided before the broker stops (monitor/runtime/supervise.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.runtime.test_rotation import _articles, _env, _rows, _sinks_yaml
from tests.support.daemon import Daemon
from tests.support.receivers import WebhookReceiver
from tests.support.streamfeeds import StreamFeeds
from tests.support.waiting import SECRET, wait_for


def _sent(data: Path) -> set[str]:
    """Article ids the poller recorded as acknowledged by the broker."""
    state = data / "poller" / "state.sqlite3"
    if not state.exists():
        return set()
    with sqlite3.connect(state) as db:
        return {row[0] for row in db.execute("SELECT article_id FROM seen")}


@pytest.mark.timeout(300)
def test_ctrl_c_decides_every_article_the_poller_already_sent_before_the_broker_goes(config_dir, tmp_path):
    # Development reports among the background: they take the full spaCy pipeline, so the
    # worker is still busy with some when Ctrl-C comes.
    with StreamFeeds(_articles(1200, 20), feeds=4, step=12, window=96) as feeds, WebhookReceiver(SECRET) as hook:
        feeds.write_feeds_yaml(config_dir)
        _sinks_yaml(config_dir, f"{hook.url}/hook")
        data = tmp_path / "data"
        daemon = Daemon({**_env(config_dir, data), "MONITOR_EMBEDDED_BROKER_BUDGET_BYTES": "0"})
        try:
            daemon.wait_for(r"newsmon ready in [\d.]+ s", 120)
            wait_for(lambda: len(_sent(data)) >= 150, 120, lambda: f"the poller to send 150 articles ({len(_sent(data))})")
            assert daemon.ctrl_c(90) == 0
            output = daemon.output()
        finally:
            daemon.stop()
    sent = _sent(data)
    decided = _rows(data / "console.sqlite3", "decisions")
    assert sent and sent <= decided, f"{len(sent - decided)} of {len(sent)} sent articles lost with the broker"
    assert "finishing the articles in flight" in output
    assert "not yet processed" not in output, output[-3000:]
    assert not feeds.finished(), "premise: it was stopped while the feeds still had articles to give"
