"""The poller on the real broker: new items once, updates as updates, broken feeds isolated."""

import asyncio

from prometheus_client import CollectorRegistry

from monitor.feeds import FeedConfig
from monitor.feedstate import FeedStateStore
from monitor.metrics import Metrics
from monitor.models import Article
from monitor.poll import KafkaPublisher, Poller
from monitor.topics import TopicNames, ensure_topics, make_producer
from tests.support.kafka import read_topic

ITEM = "<item><title>{title}</title><link>https://e.org/{n}</link><description>{body}</description></item>"


def rss(*items: str) -> bytes:
    return f'<rss version="2.0"><channel><title>Test</title>{"".join(items)}</channel></rss>'.encode()


def make_poller(settings, feeds, registry=None):
    ensure_topics(settings)
    store = FeedStateStore(settings.data_dir / "state.sqlite3")
    publisher = KafkaPublisher(make_producer(settings), TopicNames.for_settings(settings).articles)
    return Poller(settings, feeds, publisher, store, Metrics(registry or CollectorRegistry())), store


def articles_on_topic(settings, expected: int):
    records = read_topic(settings.bootstrap_servers[0], TopicNames.for_settings(settings).articles,
                         until=lambda r: len(r) >= expected, timeout_s=10, settle_s=1)
    return [Article.loads(r.value, serializer="json") for r in records]


def test_items_are_sent_once_and_survive_a_poller_restart(broker_settings, httpserver):
    httpserver.expect_request("/f").respond_with_data(rss(ITEM.format(title="One", n=1, body="a"), ITEM.format(title="Two", n=2, body="b")))
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
