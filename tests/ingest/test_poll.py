"""The poller on the real broker: new items once, updates as updates, broken feeds isolated."""

import asyncio

from prometheus_client import CollectorRegistry

from monitor.ingest.feedlist import FeedConfig
from tests.support.poller import articles_on_topic, make_poller

ITEM = "<item><title>{title}</title><link>https://e.org/{n}</link><description>{body}</description></item>"


def rss(*items: str) -> bytes:
    return f'<rss version="2.0"><channel><title>Test</title>{"".join(items)}</channel></rss>'.encode()


def test_items_are_sent_once_and_survive_a_poller_restart(broker_settings, httpserver):
    httpserver.expect_request("/f").respond_with_data(
        rss(ITEM.format(title="One", n=1, body="a"), ITEM.format(title="Two", n=2, body="b"))
    )
    feeds = [FeedConfig(name="f", url=httpserver.url_for("/f"))]
    poller, store = make_poller(broker_settings, feeds)
    assert asyncio.run(poller.run_once())[0].new == 2
    store.close()
    restarted, _ = make_poller(broker_settings, feeds)  # a new process reading the same data dir
    report = asyncio.run(restarted.run_once())[0]
    assert (report.outcome, report.new, report.updated) == ("ok", 0, 0)
    sent = articles_on_topic(broker_settings, 2)
    assert sorted(a.title for a in sent) == ["One", "Two"]
    assert all(a.feed == "f" and a.fetched_at is not None for a in sent)


def test_a_changed_item_is_sent_again_as_an_update(broker_settings, httpserver):
    httpserver.expect_ordered_request("/f").respond_with_data(rss(ITEM.format(title="One", n=1, body="first version")))
    httpserver.expect_ordered_request("/f").respond_with_data(rss(ITEM.format(title="One", n=1, body="corrected version")))
    poller, _ = make_poller(broker_settings, [FeedConfig(name="f", url=httpserver.url_for("/f"))])
    asyncio.run(poller.run_once())
    report = asyncio.run(poller.run_once())[0]
    assert (report.new, report.updated) == (0, 1)
    first, update = articles_on_topic(broker_settings, 2)
    assert first.id == update.id and (first.updated, update.updated) == (False, True)
    assert update.summary == "corrected version"


def test_a_broken_feed_is_counted_and_does_not_stop_the_others(broker_settings, httpserver):
    httpserver.expect_request("/good").respond_with_data(rss(ITEM.format(title="Fine", n=3, body="c")))
    httpserver.expect_request("/junk").respond_with_data(b"<html><body>Not a feed</body></html>")
    httpserver.expect_request("/down").respond_with_data("oops", status=503)
    feeds = [
        FeedConfig(name="junk", url=httpserver.url_for("/junk")),
        FeedConfig(name="down", url=httpserver.url_for("/down")),
        FeedConfig(name="good", url=httpserver.url_for("/good")),
    ]
    registry = CollectorRegistry()
    poller, store = make_poller(broker_settings, feeds, registry)
    reports = {r.feed: r for r in asyncio.run(poller.run_once())}
    assert (reports["junk"].outcome, reports["down"].outcome, reports["good"].outcome) == ("parse_error", "http_error", "ok")
    assert reports["down"].error.startswith("HTTP 503")
    assert registry.get_sample_value("newsmon_feed_polls_total", {"feed": "junk", "outcome": "parse_error"}) == 1
    assert registry.get_sample_value("newsmon_feed_polls_total", {"feed": "good", "outcome": "ok"}) == 1
    assert store.load("down", "").consecutive_errors == 1
    assert reports["down"].delay_s >= 2 * broker_settings.poll_interval_s, "errors back off"
    assert reports["down"].reason.startswith("back-off")
    assert [a.title for a in articles_on_topic(broker_settings, 1)] == ["Fine"]


def test_a_304_is_success_with_no_work(broker_settings, httpserver):
    from werkzeug import Response

    def handler(request):
        if request.headers.get("If-None-Match") == '"1"':
            return Response(status=304)
        return Response(rss(ITEM.format(title="Once", n=4, body="d")), headers={"ETag": '"1"'})

    httpserver.expect_request("/c").respond_with_handler(handler)
    registry = CollectorRegistry()
    poller, _ = make_poller(broker_settings, [FeedConfig(name="c", url=httpserver.url_for("/c"))], registry)
    asyncio.run(poller.run_once())
    assert asyncio.run(poller.run_once())[0].outcome == "not_modified"
    assert registry.get_sample_value("newsmon_feed_polls_total", {"feed": "c", "outcome": "not_modified"}) == 1
    assert registry.get_sample_value("newsmon_feed_seconds_since_success", {"feed": "c"}) < 5


# --- HTTP behaviour as the poller applies it -------------------------------------------------

from werkzeug import Response  # noqa: E402


def poll_once(poller, *, only_due=False):
    return {r.feed: r for r in asyncio.run(poller.run_once(only_due=only_due))}


def test_every_repeat_poll_is_conditional_and_a_304_publishes_nothing(broker_settings, httpserver):
    seen_validators = []

    def handler(request):
        seen_validators.append((request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")))
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(
            rss(ITEM.format(title="Only", n=11, body="x")),
            headers={"ETag": '"v1"', "Last-Modified": "Mon, 14 Mar 2022 09:00:00 GMT"},
        )

    httpserver.expect_request("/cond").respond_with_handler(handler)
    poller, _ = make_poller(broker_settings, [FeedConfig(name="cond", url=httpserver.url_for("/cond"))])
    outcomes = [poll_once(poller)["cond"].outcome for _ in range(3)]
    assert outcomes == ["ok", "not_modified", "not_modified"]
    assert seen_validators == [(None, None)] + [('"v1"', "Mon, 14 Mar 2022 09:00:00 GMT")] * 2
    assert len(articles_on_topic(broker_settings, 1)) == 1


def test_the_stored_url_follows_permanent_redirects_only(broker_settings, httpserver):
    httpserver.expect_request("/perm-a").respond_with_data("", status=301, headers={"Location": "/perm-b"})
    httpserver.expect_request("/perm-b").respond_with_data("", status=308, headers={"Location": "/perm-final"})
    httpserver.expect_request("/perm-final").respond_with_data(rss(ITEM.format(title="P", n=21, body="p")))
    httpserver.expect_request("/mixed-a").respond_with_data("", status=301, headers={"Location": "/mixed-b"})
    httpserver.expect_request("/mixed-b").respond_with_data("", status=302, headers={"Location": "/mixed-final"})
    httpserver.expect_request("/mixed-final").respond_with_data(rss(ITEM.format(title="M", n=22, body="m")))
    feeds = [
        FeedConfig(name="perm", url=httpserver.url_for("/perm-a")),
        FeedConfig(name="mixed", url=httpserver.url_for("/mixed-a")),
    ]
    poller, store = make_poller(broker_settings, feeds)
    poll_once(poller)
    assert store.load("perm", "").url == httpserver.url_for("/perm-final")
    assert store.load("mixed", "").url == httpserver.url_for("/mixed-a")
    httpserver.clear_log()
    poll_once(poller)
    paths = sorted(request.path for request, _ in httpserver.log)
    assert paths == ["/mixed-a", "/mixed-b", "/mixed-final", "/perm-final"], "the moved feed is fetched at its new URL"


def test_410_stops_polling_the_feed_until_its_url_changes(broker_settings, httpserver):
    httpserver.expect_request("/gone").respond_with_data("gone", status=410)
    httpserver.expect_request("/back").respond_with_data(rss(ITEM.format(title="Back", n=31, body="b")))
    registry = CollectorRegistry()
    poller, store = make_poller(broker_settings, [FeedConfig(name="g", url=httpserver.url_for("/gone"))], registry)
    report = poll_once(poller)["g"]
    assert (report.outcome, report.status) == ("gone", "gone")
    assert poll_once(poller) == {} and poll_once(poller, only_due=True) == {}
    assert len(httpserver.log) == 1
    assert registry.get_sample_value("newsmon_feeds", {"status": "gone"}) == 1
    assert registry.get_sample_value("newsmon_feed_polls_total", {"feed": "g", "outcome": "gone"}) == 1
    revived, _ = make_poller(broker_settings, [FeedConfig(name="g", url=httpserver.url_for("/back"))])
    assert poll_once(revived)["g"].outcome == "ok"


def test_429_and_503_wait_for_retry_after(broker_settings, httpserver):
    httpserver.expect_request("/busy").respond_with_data("slow down", status=429, headers={"Retry-After": "5400"})
    httpserver.expect_request("/down").respond_with_data("maintenance", status=503, headers={"Retry-After": "4000"})
    poller, store = make_poller(
        broker_settings,
        [FeedConfig(name="busy", url=httpserver.url_for("/busy")), FeedConfig(name="down", url=httpserver.url_for("/down"))],
    )
    reports = poll_once(poller)
    assert (reports["busy"].outcome, reports["busy"].delay_s, reports["busy"].reason) == ("rate_limited", 5400, "Retry-After")
    assert (reports["down"].outcome, reports["down"].delay_s, reports["down"].reason) == ("http_error", 4000, "Retry-After")
    state = store.load("busy", "")
    # The jitter spreads polls later, never before the server's Retry-After.
    assert state.next_due - state.last_attempt >= 5400 - 1
    down = store.load("down", "")
    assert down.next_due - down.last_attempt >= 4000 - 1
    assert poll_once(poller, only_due=True) == {}, "not polled again before Retry-After"


def test_the_feeds_ttl_sets_the_interval_even_after_a_304(broker_settings, httpserver):
    items = "".join(ITEM.format(title=f"T{n}", n=400 + n, body="t") for n in range(30))  # a busy feed
    body = f'<rss version="2.0"><channel><title>t</title><ttl>90</ttl>{items}</channel></rss>'.encode()

    def handler(request):
        if request.headers.get("If-None-Match") == '"t"':
            return Response(status=304)
        return Response(body, headers={"ETag": '"t"'})

    httpserver.expect_request("/ttl").respond_with_handler(handler)
    poller, _ = make_poller(broker_settings, [FeedConfig(name="ttl", url=httpserver.url_for("/ttl"), interval_s=300)])
    first = poll_once(poller)["ttl"]
    again = poll_once(poller)["ttl"]
    assert (first.delay_s, first.reason) == (5400, "<ttl>")
    assert (again.outcome, again.delay_s, again.reason) == ("not_modified", 5400, "<ttl>")


def test_a_feed_that_keeps_failing_to_parse_is_marked_broken(broker_settings, httpserver):
    httpserver.expect_request("/junk").respond_with_data(b"<html>not a feed</html>", content_type="text/html")
    settings = broker_settings.with_overrides(broken_after_parse_errors=3, broken_retry_s=7200)
    registry = CollectorRegistry()
    poller, store = make_poller(settings, [FeedConfig(name="junk", url=httpserver.url_for("/junk"))], registry)
    statuses = [poll_once(poller)["junk"].status for _ in range(3)]
    assert statuses == ["active", "active", "broken"]
    assert poll_once(poller)["junk"].delay_s == 7200
    assert registry.get_sample_value("newsmon_feeds", {"status": "broken"}) == 1
    assert store.load("junk", "").parse_errors == 4


def test_a_feed_on_a_private_address_is_blocked_and_counted(broker_settings):
    registry = CollectorRegistry()
    feeds = [FeedConfig(name="meta", url="http://169.254.169.254/latest/meta-data/")]
    poller, _ = make_poller(broker_settings.with_overrides(fetch_allowlist=""), feeds, registry)
    report = poll_once(poller)["meta"]
    assert report.outcome == "blocked" and "link-local" in report.error
    assert registry.get_sample_value("newsmon_feed_polls_total", {"feed": "meta", "outcome": "blocked"}) == 1


def test_cosmetic_link_changes_and_an_edited_title_keep_the_article(broker_settings, httpserver):
    """http→https, utm_ parameters and www. do not make a new article; an edited title is an update."""
    first = "<item><title>Talks in Beijing</title><link>http://www.e.org/story?id=5</link><description>d</description></item>"
    second = "<item><title>Talks in Beijing</title><link>https://e.org/story?id=5&amp;utm_source=rss</link><description>d</description></item>"
    third = "<item><title>Talks in Beijing end</title><link>https://e.org/story?utm_medium=feed&amp;id=5</link><description>d</description></item>"
    for item in (first, second, third):
        httpserver.expect_ordered_request("/id").respond_with_data(rss(item))
    poller, _ = make_poller(broker_settings, [FeedConfig(name="id", url=httpserver.url_for("/id"))])
    reports = [poll_once(poller)["id"] for _ in range(3)]
    assert [(r.new, r.updated) for r in reports] == [(1, 0), (0, 0), (0, 1)]
    original, update = articles_on_topic(broker_settings, 2)
    assert original.id == update.id and update.updated and update.title == "Talks in Beijing end"


def test_replicas_split_the_feeds_without_polling_one_twice(broker_settings, httpserver):
    httpserver.expect_request("/r").respond_with_data(rss(ITEM.format(title="R", n=51, body="r")))
    feeds = [FeedConfig(name=f"r{i}", url=httpserver.url_for("/r")) for i in range(12)]
    polled = []
    for replica in range(3):
        settings = broker_settings.with_overrides(
            poller_replica=replica, poller_replicas=3, data_dir=broker_settings.data_dir / f"replica{replica}"
        )
        poller, _ = make_poller(settings, feeds)
        polled += list(poll_once(poller))
    assert sorted(polled) == sorted(f.name for f in feeds)
    assert len(httpserver.log) == 12


def test_a_new_etag_over_the_same_items_publishes_nothing_and_new_items_alone_are_sent(broker_settings, httpserver):
    old_items = "".join(ITEM.format(title=f"Old {n}", n=600 + n, body="o") for n in range(20))
    new_item = ITEM.format(title="Fresh", n=700, body="f")
    httpserver.expect_ordered_request("/inc").respond_with_data(rss(old_items), headers={"ETag": '"1"'})
    httpserver.expect_ordered_request("/inc").respond_with_data(rss(old_items), headers={"ETag": '"2"'})
    httpserver.expect_ordered_request("/inc").respond_with_data(rss(new_item + old_items), headers={"ETag": '"3"'})
    poller, store = make_poller(broker_settings, [FeedConfig(name="inc", url=httpserver.url_for("/inc"))])
    reports = [poll_once(poller)["inc"] for _ in range(3)]
    assert [(r.outcome, r.new, r.updated) for r in reports] == [("ok", 20, 0), ("ok", 0, 0), ("ok", 1, 0)]
    assert len(store.load("inc", "").item_digests) == 21
    sent = articles_on_topic(broker_settings, 21)
    assert len(sent) == 21 and sum(a.title == "Fresh" for a in sent) == 1


def test_requests_stay_within_the_per_host_and_global_limits(broker_settings):
    """Two hosts (127.0.0.1, 127.0.0.2), 6 feeds each, slow responses: at most 2 per host, 3 in all."""
    import threading

    from aiohttp import web as aioweb

    from tests.support.loopback import LoopbackServer

    lock, in_flight, peaks = threading.Lock(), {"all": 0}, {"all": 0}

    async def slow(request):
        host = request.host.split(":")[0]
        with lock:
            for key in ("all", host):
                in_flight[key] = in_flight.get(key, 0) + 1
                peaks[key] = max(peaks.get(key, 0), in_flight[key])
        await asyncio.sleep(0.3)
        with lock:
            for key in ("all", host):
                in_flight[key] -= 1
        return aioweb.Response(body=rss(ITEM.format(title="S", n=800, body="s")), content_type="application/rss+xml")

    with LoopbackServer(slow, host="127.0.0.1") as one, LoopbackServer(slow, host="127.0.0.2") as two:
        feeds = [FeedConfig(name=f"h{i}-{server.host}", url=server.url(f"/{i}")) for i in range(6) for server in (one, two)]
        settings = broker_settings.with_overrides(poll_concurrency=3, http_per_host_limit=2)
        poller, _ = make_poller(settings, feeds)
        reports = asyncio.run(poller.run_once())
    assert [r.outcome for r in reports] == ["ok"] * 12
    assert peaks["all"] == 3 and peaks["127.0.0.1"] == 2 and peaks["127.0.0.2"] == 2, peaks


def test_a_hostile_doctype_is_defused_counted_and_logged_and_its_items_still_sent(broker_settings, httpserver, caplog):
    from tests.support import hostile

    httpserver.expect_request("/bomb").respond_with_data(hostile.billion_laughs(), content_type="application/rss+xml")
    registry = CollectorRegistry()
    poller, _ = make_poller(broker_settings, [FeedConfig(name="bomb", url=httpserver.url_for("/bomb"))], registry)
    report = poll_once(poller)["bomb"]
    assert (report.outcome, report.new) == ("ok", 1)
    assert registry.get_sample_value("newsmon_feed_entities_refused_total") == 9  # lol1…lol9; the leaf "lol" is harmless
    assert "feed bomb: 9 entity declarations removed" in caplog.text
    (sent,) = articles_on_topic(broker_settings, 1)
    assert "lollol" not in sent.summary


def test_a_round_that_cannot_save_its_state_is_logged_and_the_poller_goes_on(broker_settings, httpserver, caplog):
    httpserver.expect_request("/steady").respond_with_data(rss(ITEM.format(title="Steady", n=901, body="b")))
    poller, store = make_poller(broker_settings, [FeedConfig(name="steady", url=httpserver.url_for("/steady"))])
    poller.idle_s = 0.2
    real_save, failures = store.save, []

    def save(state):
        if not failures:
            failures.append(state.name)
            raise OSError("disk full")
        real_save(state)

    store.save = save

    async def run():
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run_forever(stop))
        for _ in range(100):
            await asyncio.sleep(0.1)
            if store.load("steady", "").last_success is not None:
                break
        stop.set()
        await task

    asyncio.run(run())
    assert failures == ["steady"], "the first round failed"
    assert store.load("steady", "").last_success is not None, "a later round polled and saved the feed"
    assert "poll round failed" in caplog.text and "disk full" in caplog.text


def test_an_article_too_long_for_a_broker_message_is_cut_and_counted_not_left_failing_its_feed():
    from monitor.ingest.poll import fit_for_broker
    from monitor.models import Article

    article = Article(id="a1", title="Port fees", summary="s" * 150_000, text="t" * 300_000, content_hash="h")
    fitted = fit_for_broker(article, 100_000)
    assert (len(fitted.text), len(fitted.summary), fitted.content_hash, fitted.id) == (100_000, 100_000, "h", "a1")
    short = Article(id="a2", title="Port fees", summary="s", text="t" * 100_000)
    assert fit_for_broker(short, 100_000) is short


def test_a_feed_with_a_huge_item_publishes_it_cut_beside_its_siblings(broker_settings, httpserver):
    httpserver.expect_request("/huge").respond_with_data(
        rss(ITEM.format(title="Huge", n=950, body="w " * 80_000), ITEM.format(title="Small", n=951, body="fine"))
    )
    registry = CollectorRegistry()
    settings = broker_settings.with_overrides(max_article_chars=10_000)
    poller, _store = make_poller(settings, [FeedConfig(name="huge", url=httpserver.url_for("/huge"))], registry)
    assert poll_once(poller)["huge"].outcome == "ok"
    published = {a.title: a for a in articles_on_topic(settings, 2)}
    assert len(published["Huge"].summary) == 10_000 and published["Small"].summary == "fine"
    assert registry.get_sample_value("newsmon_articles_total", {"outcome": "cut"}) == 1
