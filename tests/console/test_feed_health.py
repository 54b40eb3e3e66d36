"""The health page's feeds: a real poller polls loopback feeds onto the real broker, the
console's consumer reads each feed's last poll, and the page says which are failing and why."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from monitor.console.app import create_app
from monitor.console.follow import Follower
from monitor.console.store import ReadModel
from monitor.ingest.feedlist import FeedConfig
from monitor.models import FeedStatus
from monitor.runtime.kafka_topics import KafkaTopicNames
from tests.support.feedbuild import rss_from_files
from tests.support.paths import SEEDS
from tests.support.poller import make_poller
from tests.support.waiting import wait_for

#: Reads ../shared (a real seed article): fails clearly when it is missing.
pytestmark = pytest.mark.shared


def test_failing_feeds_show_with_their_last_error_and_ok_feeds_as_ok(broker_settings, httpserver):
    httpserver.expect_request("/good.xml").respond_with_data(
        rss_from_files(sorted(SEEDS.glob("*.txt"))[:1]), content_type="application/rss+xml"
    )
    httpserver.expect_request("/down.xml").respond_with_data("upstream exploded", status=503)
    httpserver.expect_request("/junk.xml").respond_with_data("<html><body>not a feed</body></html>", content_type="text/html")
    feeds = [FeedConfig(name=name, url=httpserver.url_for(f"/{name}.xml"), source=name) for name in ("good", "down", "junk")]
    poller, store = make_poller(broker_settings, feeds)
    try:
        reports = asyncio.run(poller.run_once())
    finally:
        store.close()
    assert {r.feed: r.outcome in ("ok", "not_modified") for r in reports} == {"good": True, "down": False, "junk": False}

    model = ReadModel(broker_settings.data_dir / "console.sqlite3")
    follower = Follower(broker_settings, model).start()
    try:
        wait_for(lambda: len(model.query("SELECT * FROM feeds")) == 3, 60, "three feed statuses in the read model")
        articles = KafkaTopicNames.for_settings(broker_settings).articles
        # No worker runs here: the one article polled is the worker group's lag.
        wait_for(
            lambda: (follower.vitals.worker_lag or {}).get(articles) == 1, 30, lambda: f"worker lag {follower.vitals.worker_lag}"
        )
        with TestClient(create_app(broker_settings, model, vitals=follower.vitals), base_url="http://127.0.0.1:8090") as client:
            page = client.get("/health").text
    finally:
        follower.stop()
        model.close()
    assert f"{articles}: 1" in page, "the worker's lag, measured from its group's committed offsets"
    assert '<span id="feeds-ok">1</span> ok, <span id="feeds-failing">2</span> failing' in page
    failing = page[page.index('<table class="feeds"') : page.index("</table>")]
    rows = failing.split("<tr ")[1:]
    assert [row.split("<td>")[1].split("</td>")[0] for row in rows] == ["down", "junk", "good"], "failing feeds first"
    assert "503" in rows[0], "the HTTP error is shown"
    assert "parse_error" in rows[1]
    assert 'class="ok"' in rows[2] and "never" not in rows[2], "an ok feed shows its last success"


def test_an_older_poll_never_replaces_a_newer_one_and_errors_render_as_text(settings):
    model = ReadModel(settings.data_dir / "console.sqlite3")
    now = datetime.now(UTC)
    newer = FeedStatus(feed="wire", outcome="http_error", ok=False, error="<script>alert(1)</script>", checked_at=now)
    older = FeedStatus(feed="wire", outcome="ok", ok=True, checked_at=now - timedelta(minutes=5))
    try:
        model.store(feeds=[newer])
        model.store(feeds=[older])  # a re-read of the topic, or a slow partition
        (row,) = model.query("SELECT outcome, error FROM feeds")
        assert tuple(row) == ("http_error", "<script>alert(1)</script>")
        with TestClient(create_app(settings, model), base_url="http://127.0.0.1:8090") as client:
            page = client.get("/health").text
    finally:
        model.close()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
