"""Full text on real components: a summary-only feed item gets its page's main text.

The article pages are built at test time from the shared seed articles, wrapped in the
navigation, scripts and footers a real page has, and served on loopback next to the feed.
"""

import asyncio
import html
import threading

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from monitor.ingest.feedlist import FeedConfig
from monitor.ingest.fulltext import extract_text
from monitor.models import Article
from tests.support.loopback import LoopbackServer
from tests.support.paths import seed
from tests.support.poller import articles_on_topic, make_poller

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared

BOILERPLATE = "Subscribe to our newsletter for the best stories every morning"


def article_page(path) -> bytes:
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    title, paragraphs = lines[0], lines[1:]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!doctype html><html><head><title>{html.escape(title)}</title>
<link rel="stylesheet" href="/assets/site.css"><script src="/assets/tracker.js"></script></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<main><article><h1>{html.escape(title)}</h1><img src="/assets/photo.jpg" alt="photo">{body}</article></main>
<aside>{BOILERPLATE}. <a href="/signup">Sign up</a></aside><footer>© News Corp. All rights reserved.</footer>
<script>document.write('<img src="/assets/pixel.gif">')</script></body></html>""".encode()


def feed_xml(base: str) -> bytes:
    items = [
        ("Seed one", f"{base}/article/000", "Short summary of the first story."),
        ("Seed two", f"{base}/article/001", "Short summary of the second story."),
        ("Slow page", f"{base}/slow", "This page never finishes."),
        ("Metadata", "http://169.254.169.254/latest/meta-data/", "A link into the cloud metadata service."),
    ]
    xml = "".join(f"<item><title>{t}</title><link>{link}</link><description>{d}</description></item>" for t, link, d in items)
    return f'<rss version="2.0"><channel><title>Full</title>{xml}</channel></rss>'.encode()


def test_extract_text_keeps_the_article_and_drops_the_page_furniture():
    text = extract_text(article_page(seed("000")), "https://example.org/a")
    assert "Russia has asked China to send military support" in text
    assert BOILERPLATE not in text and "All rights reserved" not in text and "document.write" not in text


def test_summary_only_items_get_their_page_text_within_the_limits(broker_settings):
    async def handler(request):
        if request.path == "/feed":
            return web.Response(body=feed_xml(server.url("").rstrip("/")), content_type="application/rss+xml")
        if request.path.startswith("/article/"):
            return web.Response(body=article_page(seed(request.path.rsplit("/", 1)[1])), content_type="text/html")
        if request.path == "/slow":
            await asyncio.sleep(30)
        return web.Response(status=404)

    with LoopbackServer(handler) as server:
        settings = broker_settings.with_overrides(
            fetch_allowlist=f"127.0.0.1:{server.port}", fulltext_budget_s=2.0, http_timeout_s=20.0
        )
        registry = CollectorRegistry()
        poller, _ = make_poller(settings, [FeedConfig(name="full", url=server.url("/feed"), full_text=True)], registry)
        (report,) = asyncio.run(poller.run_once())
        assert report.outcome == "ok" and report.new == 4
        sent = {a.title: a for a in articles_on_topic(settings, 4)}
        requested = sorted(server.requests)

    one, two = sent["Seed one"], sent["Seed two"]
    assert one.summary == "Short summary of the first story." and "Russia has asked China" in one.text
    assert two.summary and len(two.text) > 500 and BOILERPLATE not in two.text
    assert (sent["Slow page"].text, sent["Metadata"].text) == ("", ""), "kept with their summary"
    assert sent["Slow page"].summary and sent["Metadata"].summary
    assert requested == ["/article/000", "/article/001", "/feed", "/slow"], "the extractor fetched nothing itself"
    counts = {
        o: registry.get_sample_value("newsmon_fulltext_fetches_total", {"outcome": o}) for o in ("ok", "timeout", "blocked")
    }
    assert counts == {"ok": 2, "timeout": 1, "blocked": 1}


def test_full_text_is_not_fetched_for_feeds_without_the_option_or_items_with_text():
    from monitor.ingest.fulltext import needs_full_text

    assert needs_full_text(Article(id="a", summary="s", url="https://e.org/a"))
    assert not needs_full_text(Article(id="b", summary="s", text="full body", url="https://e.org/b"))
    assert not needs_full_text(Article(id="c", summary="s", url="mailto:x@e.org"))


def test_extractions_the_budget_abandons_hold_only_the_full_text_threads(settings, monkeypatch):
    """An extraction cannot be stopped once running: polls that keep meeting pathological
    pages must not pile up threads or take the default executor the poller shares."""
    from monitor.ingest import fulltext
    from monitor.ingest.fetch import make_session
    from monitor.runtime.metrics import Metrics

    release, started = threading.Event(), []

    def stuck(page, url="", title=""):
        started.append(url)
        release.wait(30)
        return ""

    monkeypatch.setattr(fulltext, "extract_text", stuck)

    async def handler(request):
        return web.Response(body=b"<html><body><p>page</p></body></html>", content_type="text/html")

    async def polls(base: str, settings) -> list[list[Article]]:
        session = make_session(settings)
        try:
            out = []
            for poll in range(3):
                articles = [Article(id=f"{poll}-{i}", summary="s", url=f"{base}/page/{poll}/{i}") for i in range(4)]
                out.append(await fulltext.enrich(session, articles, settings, Metrics(CollectorRegistry())))
            # The loop's default executor is still free for the poller's other blocking work.
            assert await asyncio.wait_for(asyncio.to_thread(lambda: "free"), 5) == "free"
            return out
        finally:
            await session.close()

    try:
        with LoopbackServer(handler) as server:
            limited = settings.with_overrides(
                fetch_allowlist=f"127.0.0.1:{server.port}", fulltext_budget_s=0.3, fulltext_concurrency=2
            )
            results = asyncio.run(polls(server.url("").rstrip("/"), limited))
        assert all(a.text == "" and a.summary == "s" for batch in results for a in batch), "kept with their summary"
        assert len(started) == 2, f"only the pool's two threads ever ran an extraction, not {len(started)}"
        assert sum(t.name.startswith("newsmon-fulltext") for t in threading.enumerate()) <= 2
    finally:
        release.set()
