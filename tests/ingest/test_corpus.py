"""Every fixture feed through the real fetch-and-parse path, from one loopback server.

feedparser's own corpus (well-formed, ill-formed, encoding) and the 25 real news
snapshots are served over HTTP (with the ``Header:`` lines a file asks for) and fetched
concurrently with ``monitor.ingest.fetch``; every body goes through ``monitor.ingest.parse.parse_feed``.
Each feedparser file states an ``Expect:`` expression over feedparser's result; we check
the ones about fields we use (title, link, id, dates, content, summary) and require every
expectation the installed feedparser meets by itself (its own test harness call, made
here on the same file) to hold on our path too.

Files whose path contains "http" are, as in feedparser's harness, documents fetched from
a URL (that URL is their base); the others are parsed without a document URI, as there.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import re
from pathlib import Path

import feedparser
import pytest
from aiohttp import web

from monitor.ingest.fetch import fetch, make_session
from monitor.ingest.parse import parse_feed
from tests.support.loopback import LoopbackServer
from tests.support.paths import FEEDS, shared_glob

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = [pytest.mark.shared, pytest.mark.timeout(600)]

CORPUS = shared_glob(FEEDS / "feedparser", "**/*")
NEWS = shared_glob(FEEDS / "news", "*.xml")
HEADER = re.compile(rb"^Header:\s+([^:]+):(.+)$", re.MULTILINE)
EXPECT = re.compile(r"Description:\s*(.*?)\s*Expect:\s*(.*)\s*-->")
# The fields newsmon reads from a feed: a check that names none of them is not ours to make.
OUR_FIELDS = re.compile(r"\b(title|link|links|href|id|guid|published|updated|created|date|content|summary|description)\w*")


def _served_headers(path: Path, data: bytes) -> tuple[int, dict[str, str]]:
    headers = {k.decode().strip(): v.decode().strip() for k, v in HEADER.findall(data)}
    status = int(headers.pop("Status", "200"))
    # feedparser's harness sends text/xml to its HTTP cases; the others were plain strings,
    # so they are served as XML that declares its own encoding.
    default = "text/xml" if _is_http_case(path) else "application/xml"
    headers["Content-Type"] = headers.pop("Content-type", headers.pop("Content-Type", default))
    return status, headers


def _is_http_case(path: Path) -> bool:
    return "http" in str(path.relative_to(FEEDS))


def _text(data: bytes) -> str:
    """The file as feedparser's harness reads it (byte-order mark honoured)."""
    for bom, codec in (
        (b"\x00\x00\xfe\xff", "utf-32be"),
        (b"\xff\xfe\x00\x00", "utf-32le"),
        (b"\xfe\xff", "utf-16be"),
        (b"\xff\xfe", "utf-16le"),
        (b"\xef\xbb\xbf", "utf-8"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="ignore")
    for head, codec in (
        (b"\x00\x00\x00\x3c", "utf-32be"),
        (b"\x3c\x00\x00\x00", "utf-32le"),
        (b"\x00\x3c\x00\x3f", "utf-16be"),
        (b"\x3c\x00\x3f\x00", "utf-16le"),
    ):
        if data.startswith(head):
            return data.decode(codec, errors="ignore")
    return data.decode("utf-8", errors="ignore")


async def _serve(request: web.Request) -> web.Response:
    path = (FEEDS / request.path.lstrip("/")).resolve()
    if FEEDS not in path.parents or not path.is_file():
        return web.Response(status=404)
    data = path.read_bytes()
    status, headers = _served_headers(path, data)
    etag = headers.get("ETag")
    if etag and request.headers.get("If-None-Match") == etag:
        return web.Response(status=304)
    return web.Response(body=data, status=status, headers=headers)


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    """(path, FetchResult, ParsedFeed, exception) for every file, fetched concurrently."""
    from monitor.settings import Settings

    settings = Settings(data_dir=tmp_path_factory.mktemp("corpus"), fetch_allowlist="127.0.0.1", poll_concurrency=32)

    async def run(server: LoopbackServer):
        limit = asyncio.Semaphore(32)
        async with make_session(settings) as session:

            async def one(path: Path):
                async with limit:
                    url = server.url("/" + str(path.relative_to(FEEDS)))
                    result = await fetch(session, url, settings)
                    base = result.url if _is_http_case(path) or path in NEWS else ""
                    parsed = parse_feed(result.body, feed_name="corpus", headers=result.headers, url=base)
                    return path, result, parsed

            return await asyncio.gather(*(one(p) for p in CORPUS + NEWS), return_exceptions=True)

    with LoopbackServer(_serve) as server:
        results = asyncio.run(run(server))
        port = server.port
    return results, port


def test_the_corpus_is_all_there():
    folders = {
        name: sum(1 for p in CORPUS if p.relative_to(FEEDS / "feedparser").parts[0] == name)
        for name in ("wellformed", "illformed", "encoding")
    }
    assert folders == {"wellformed": 1749, "illformed": 19, "encoding": 82}
    assert len(NEWS) == 25


def test_every_file_is_fetched_and_parsed_without_an_uncaught_exception(fetched):
    results, _ = fetched
    raised = [r for r in results if isinstance(r, BaseException)]
    assert raised == []
    assert len(results) == len(CORPUS) + len(NEWS) == 1875
    not_fetched = [(str(p), r.outcome, r.error) for p, r, _ in results if r.outcome != "ok"]
    assert not_fetched == []


def test_the_25_news_feeds_yield_their_items(fetched):
    results, _ = fetched
    news = {p.name: parsed for p, _, parsed in results if p in NEWS}
    assert len(news) == 25
    for name, parsed in news.items():
        assert not parsed.unusable and len(parsed.articles) >= 5, name
        assert all(a.url.startswith("https://") or a.url.startswith("http://") for a in parsed.articles), name
    assert sum(len(p.articles) for p in news.values()) >= 1_000


def _expectation(path: Path) -> str | None:
    match = EXPECT.search(_text(path.read_bytes()))
    return match.group(2).strip() if match else None


def _baseline(path: Path, url: str, headers: dict[str, str]) -> dict:
    """feedparser on its own, called the way its test harness calls it."""
    data = path.read_bytes()
    if _is_http_case(path):
        return feedparser.parse(
            io.BytesIO(data), response_headers={**{k.lower(): v for k, v in headers.items()}, "content-location": url}
        )
    return feedparser.parse(_text(data))


def _holds(expect: str, env: dict) -> bool:
    try:
        return bool(eval(expect, {"datetime": datetime}, env))
    except Exception:
        return False


def test_stated_expectations_about_our_fields_hold(fetched, capsys):
    results, port = fetched
    checked = met = library_gaps = 0
    lost: list[str] = []
    for path, result, parsed in (r for r in results if r[0] in CORPUS):
        expect = _expectation(path)
        if not expect or not OUR_FIELDS.search(expect):
            continue
        # feedparser's harness serves its HTTP cases at 127.0.0.1:8097; ours at another port.
        expect = expect.replace("127.0.0.1:8097", f"127.0.0.1:{port}")
        env = dict(parsed.raw)
        # The HTTP facts feedparser reports when it fetches itself come from our fetch now.
        env.update(
            {
                k: v
                for k, v in {
                    "etag": result.etag,
                    "modified": result.last_modified,
                    "href": result.url,
                    "status": result.status,
                }.items()
                if v
            }
        )
        checked += 1
        if _holds(expect, env):
            met += 1
        elif _holds(expect, _baseline(path, result.url, _served_headers(path, path.read_bytes())[1])):
            lost.append(f"{path.relative_to(FEEDS)}: {expect[:120]}")
        else:
            library_gaps += 1  # the installed feedparser does not meet it either
    with capsys.disabled():
        print(
            f"\nfixture feeds: {len(results)} processed; expectations about our fields: {checked} checked, "
            f"{met} met, {library_gaps} unmet by feedparser {feedparser.__version__} itself, {len(lost)} lost by our path"
        )
    assert checked > 1_000
    assert lost == []
    assert library_gaps <= 0.02 * checked
