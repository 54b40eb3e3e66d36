"""Feed parsing from bytes: real news snapshots yield their items; errors come back, never raise."""

from pathlib import Path

import pytest

from monitor.ingest.doctype import expat_status, replace_doctype
from monitor.ingest.htmltext import html_to_text
from monitor.ingest.items import item_digest, item_spans, without_spans
from monitor.ingest.parse import parse_feed
from tests.support.paths import FEEDS, shared_glob

#: Reads ../shared (real feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared

NEWS = shared_glob(FEEDS / "news", "*.xml")


def test_the_25_news_snapshots_are_present():
    assert len(NEWS) == 25


@pytest.mark.parametrize("path", NEWS, ids=lambda p: p.name.split("__")[0])
def test_every_news_snapshot_yields_items_with_ids_titles_and_links(path: Path):
    parsed = parse_feed(path.read_bytes(), feed_name="news")
    assert not parsed.unusable, parsed.error
    assert len(parsed.articles) >= 5
    ids = [a.id for a in parsed.articles]
    assert len(ids) == len(set(ids))
    for article in parsed.articles:
        assert article.title or article.summary
        assert article.url.startswith("http")
        assert article.content_hash


def test_the_guardian_snapshot_has_its_55_items_with_dates():
    (path,) = [p for p in NEWS if p.name.startswith("guardian_us_2018")]
    parsed = parse_feed(path.read_bytes(), feed_name="guardian")
    assert len(parsed.articles) == 55
    assert all(a.published is not None and a.published.year in (2017, 2018) for a in parsed.articles)
    assert max(a.published for a in parsed.articles).date().isoformat() == "2018-01-31"


def test_html_becomes_paragraph_text_without_markup_or_scripts():
    markup = "<p>Russia &amp; China</p><script>alert(1)</script><p>met <b>today</b></p>"
    assert html_to_text(markup) == "Russia & China\nmet today"


def test_garbage_is_reported_as_unusable_not_raised():
    parsed = parse_feed(b"\x00\xff this is not xml <<<", feed_name="broken")
    assert parsed.unusable
    assert parsed.articles == []


def test_ttl_is_read_from_the_channel():
    body = b'<rss version="2.0"><channel><title>t</title><ttl>45</ttl><item><title>One item here</title><link>https://e.org/1</link></item></channel></rss>'
    parsed = parse_feed(body, feed_name="ttl")
    assert parsed.ttl_minutes == 45
    assert [a.title for a in parsed.articles] == ["One item here"]


def test_charset_from_response_headers_is_honoured():
    body = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Café Müller</title><link>https://e.org/c</link></item></channel></rss>'.encode(
        "latin-1"
    )
    parsed = parse_feed(
        body.replace(b'<?xml version="1.0"?>', b""),
        feed_name="latin",
        headers={"content-type": "application/rss+xml; charset=iso-8859-1"},
    )
    assert parsed.articles[0].title == "Café Müller"


# --- hostile XML: the DOCTYPE filter on its own ------------------------------------------------

from tests.support import hostile  # noqa: E402


def test_small_internal_entities_survive_and_are_expanded():
    body = b'<!DOCTYPE rss [\n<!ENTITY org "tag:example.com,">\n]>\n<rss version="2.0"><channel><item><guid isPermaLink="false">&org;2006</guid><title>t</title></item></channel></rss>'
    version, data, entities = replace_doctype(body)
    assert entities == {"org": "tag:example.com,"}
    parsed = parse_feed(body, feed_name="e")
    assert not parsed.bozo and parsed.raw.entries[0].id == "tag:example.com,2006"


@pytest.mark.parametrize(
    "document, kept",
    [
        (hostile.billion_laughs(), {"lol0": "lol"}),
        (hostile.billion_laughs_one_line(), {"lol0": "lol"}),
        (hostile.quadratic_blowup(), {}),
        (hostile.xxe("file:///etc/passwd"), {}),
        (hostile.xxe("http://127.0.0.1:9/x"), {}),
        (hostile.xxe_parameter("file:///etc/passwd"), {}),
    ],
    ids=["billion-laughs", "one-line", "quadratic", "xxe-file", "xxe-url", "xxe-parameter"],
)
def test_dangerous_declarations_never_reach_a_parser(document, kept):
    """Only a harmless leaf ("lol") survives; nesting, big values and external ids do not."""
    _, data, entities = replace_doctype(document)
    assert entities == kept
    prolog = data[: data.index(b"<rss")]
    assert b"SYSTEM" not in prolog and b"%" not in prolog and prolog.count(b"<!ENTITY") == len(kept)


def test_many_references_to_a_small_entity_are_bounded_too():
    """A 200-byte entity referenced 10,000 times would be 2 MB: over the expansion budget."""
    doc = b'<!DOCTYPE r [<!ENTITY s "' + b"s" * 200 + b'">]><r>' + b"&s;" * 10_000 + b"</r>"
    assert replace_doctype(doc)[2] == {}
    assert replace_doctype(doc.replace(b"&s;" * 10_000, b"&s;" * 100))[2] == {"s": "s" * 200}


def test_the_expat_version_is_known_and_recent_enough_here():
    version, protected = expat_status()
    assert version.startswith("expat_") and protected


# --- parsing only what changed ---------------------------------------------------------------


@pytest.mark.parametrize("path", NEWS, ids=lambda p: p.name.split("__")[0])
def test_a_feed_cut_down_to_some_items_parses_those_items_exactly_as_the_whole(path: Path):
    """The poller's incremental parse: same ids, hashes, titles, dates and links as a full parse."""
    body = path.read_bytes()
    spans = item_spans(body)
    assert spans is not None and len(spans) >= 5
    whole = {a.id: a for a in parse_feed(body, feed_name="n", url="https://news.example/feed").articles}
    kept = spans[1::3]  # every third item, as if only those were new
    cut = parse_feed(without_spans(body, [s for s in spans if s not in kept]), feed_name="n", url="https://news.example/feed")
    assert cut.articles and not cut.unusable
    for article in cut.articles:
        original = whole[article.id]
        assert (
            article.title,
            article.summary,
            article.text,
            article.url,
            article.published,
            article.content_hash,
            article.source,
        ) == (
            original.title,
            original.summary,
            original.text,
            original.url,
            original.published,
            original.content_hash,
            original.source,
        )
    assert cut.ttl_minutes == parse_feed(body, feed_name="n").ttl_minutes


def test_item_digests_change_with_the_item_bytes_only():
    body = (
        b'<rss version="2.0"><channel><title>t</title><item><title>A</title></item><item><title>B</title></item></channel></rss>'
    )
    first = [item_digest(body[a:b]) for a, b in item_spans(body)]
    edited = body.replace(b"<title>B</title>", b"<title>B2</title>")
    second = [item_digest(edited[a:b]) for a, b in item_spans(edited)]
    assert first[0] == second[0] and first[1] != second[1]


@pytest.mark.parametrize(
    "body",
    [b"<rss><channel><item><title>unclosed</channel></rss>", hostile.billion_laughs(), "<rss/>".encode("utf-16")],
    ids=["malformed", "doctype", "utf-16"],
)
def test_documents_the_item_finder_cannot_vouch_for_take_the_full_parser(body):
    assert item_spans(body) is None


def test_the_poller_logs_the_expat_version_at_start_up(caplog):
    import logging
    import pyexpat

    from monitor.runtime.poller import log_parser_safety

    with caplog.at_level(logging.INFO, logger="monitor.ingest.poll"):
        log_parser_safety()
    assert pyexpat.EXPAT_VERSION in caplog.text and "amplification limits present" in caplog.text


GOOD_ITEM = "<item><title>Port talks resume</title><link>https://example.org/good</link><description>Fine.</description></item>"


@pytest.mark.parametrize(
    "bad_item",
    [
        "<item><title>Fees &#55296; rise</title><link>https://example.org/surrogate</link></item>",
        "<item><title>Fees &#0; rise</title><link>https://example.org/nul</link></item>",
        "<item><title>Port out of range</title><link>http://example.org:99999/a</link></item>",
        "<item><title>Broken IPv6 host</title><link>http://[::1/a</link></item>",
    ],
)
def test_one_unreadable_item_never_costs_its_feed_the_other_items(bad_item):
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{GOOD_ITEM}{bad_item}</channel></rss>'
    parsed = parse_feed(body.encode(), feed_name="ports")
    assert [a.title for a in parsed.articles][0] == "Port talks resume"
    assert len(parsed.articles) == 2, "the odd item is read too, as well as it can be"
    assert len({a.id for a in parsed.articles}) == 2


def test_a_reference_to_a_surrogate_reads_as_the_replacement_character():
    body = b'<rss version="2.0"><channel><title>T</title><item><title>A &#xD800; B &#8217;</title></item></channel></rss>'
    assert [a.title for a in parse_feed(body, feed_name="t").articles] == ["A \ufffd B \u2019"]


def test_live_blog_posts_that_share_a_page_link_but_not_a_guid_are_all_kept():
    posts = "".join(
        f"<item><title>Post {n}</title><link>https://example.org/live#p{n}</link><guid>post-{n}</guid></item>" for n in (1, 2, 3)
    )
    twice = "<item><title>Post 1</title><link>https://example.org/live#p1</link><guid>post-1</guid></item>"
    other = "<item><title>Other</title><link>https://example.org/other</link><guid>o-1</guid></item>"
    body = f'<rss version="2.0"><channel><title>T</title>{posts}{twice}{other}</channel></rss>'.encode()
    articles = parse_feed(body, feed_name="live").articles
    assert [a.title for a in articles] == ["Post 1", "Post 2", "Post 3", "Other"], "the repeated post once, no post lost"
    assert len({a.id for a in articles}) == 4
    again = parse_feed(body, feed_name="live").articles
    assert [a.id for a in again] == [a.id for a in articles], "the same ids on the next poll"
    alone = parse_feed(f'<rss version="2.0"><channel><title>T</title>{other}</channel></rss>'.encode(), feed_name="live")
    assert alone.articles[0].id == articles[3].id, "an item that shares its link with no other keeps its link's id"
