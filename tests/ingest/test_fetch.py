"""Our HTTP client on a loopback server: conditional GET, caps, redirects, timeouts, schemes."""

import asyncio
import gzip
import time

from werkzeug import Response

from monitor.ingest.fetch import fetch, make_session


def run_fetch(settings, url, **kwargs):
    async def go():
        async with make_session(settings) as session:
            return await fetch(session, url, settings, **kwargs)

    return asyncio.run(go())


def test_conditional_get_sends_validators_and_maps_304_to_not_modified(settings, httpserver):
    def handler(request):
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(b"<rss/>", headers={"ETag": '"v1"', "Last-Modified": "Mon, 14 Mar 2022 09:00:00 GMT"})

    httpserver.expect_request("/feed").respond_with_handler(handler)
    first = run_fetch(settings, httpserver.url_for("/feed"))
    assert (first.outcome, first.etag, first.last_modified) == ("ok", '"v1"', "Mon, 14 Mar 2022 09:00:00 GMT")
    again = run_fetch(settings, httpserver.url_for("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert (again.outcome, again.body) == ("not_modified", b"")
    assert httpserver.log[1][0].headers["If-Modified-Since"] == "Mon, 14 Mar 2022 09:00:00 GMT"


def test_the_user_agent_is_ours(settings, httpserver):
    httpserver.expect_request("/ua").respond_with_data("ok")
    run_fetch(settings, httpserver.url_for("/ua"))
    assert httpserver.log[0][0].headers["User-Agent"] == settings.user_agent


def test_a_body_over_the_cap_is_aborted(settings, httpserver):
    small = settings.with_overrides(max_body_bytes=10_000)
    httpserver.expect_request("/big").respond_with_data(b"x" * 50_000)
    result = run_fetch(small, httpserver.url_for("/big"))
    assert result.outcome == "too_large" and result.body == b""


def test_the_cap_counts_decompressed_bytes(settings, httpserver):
    small = settings.with_overrides(max_body_bytes=100_000)
    bomb = gzip.compress(b"\0" * 5_000_000)  # 5 MB that compresses to a few KB
    httpserver.expect_request("/gz").respond_with_data(bomb, headers={"Content-Encoding": "gzip"})
    result = run_fetch(small, httpserver.url_for("/gz"))
    assert len(bomb) < 100_000
    assert result.outcome == "too_large"


def test_http_errors_are_reported_with_their_status(settings, httpserver):
    httpserver.expect_request("/gone").respond_with_data("bye", status=410)
    httpserver.expect_request("/busy").respond_with_data("slow down", status=429, headers={"Retry-After": "120"})
    httpserver.expect_request("/broken").respond_with_data("oops", status=500)
    gone = run_fetch(settings, httpserver.url_for("/gone"))
    assert (gone.outcome, gone.status) == ("gone", 410)
    assert "410" in gone.error
    busy = run_fetch(settings, httpserver.url_for("/busy"))
    assert (busy.outcome, busy.status, busy.headers["retry-after"]) == ("rate_limited", 429, "120")
    broken = run_fetch(settings, httpserver.url_for("/broken"))
    assert (broken.outcome, broken.status) == ("http_error", 500)


def test_permanent_redirects_report_the_new_location_temporary_ones_do_not(settings, httpserver):
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/tmp").respond_with_data("", status=302, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data("<rss/>")
    moved = run_fetch(settings, httpserver.url_for("/old"))
    assert (moved.outcome, moved.moved_to) == ("ok", httpserver.url_for("/new"))
    temporary = run_fetch(settings, httpserver.url_for("/tmp"))
    assert (temporary.outcome, temporary.moved_to) == ("ok", None)


def test_a_slow_server_hits_the_total_deadline(settings, httpserver):
    quick = settings.with_overrides(http_timeout_s=1.0)

    def slow(request):
        time.sleep(3)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    started = time.monotonic()
    result = run_fetch(quick, httpserver.url_for("/slow"))
    assert result.outcome == "timeout"
    assert time.monotonic() - started < 2.5


def test_non_http_schemes_are_refused_without_a_request(settings):
    result = run_fetch(settings, "file:///etc/passwd")
    assert result.outcome == "blocked" and "file" in result.error


def test_an_unreachable_host_is_a_network_error(settings):
    result = run_fetch(settings, "http://127.0.0.1:9/feed")
    assert result.outcome == "network_error"
