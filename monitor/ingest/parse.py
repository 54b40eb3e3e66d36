"""Parsing: feed bytes in, articles out. feedparser never fetches anything itself.

feedparser is handed bytes we fetched (never a URL or a path: given a string it may open
files or URLs) plus the response headers, so it can honour the charset in Content-Type,
and the URL they came from as Content-Location, so relative links resolve. Its errors
come back on the result (``bozo``) instead of being raised; we keep them. Hostile XML
(entity bombs, external entities) is defused before either of its parsers sees it.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import feedparser.api

from monitor.ingest.doctype import counting_refusals, harden_feedparser
from monitor.ingest.htmltext import html_to_text
from monitor.ingest.identity import article_id, content_hash, short_hash
from monitor.models import Article, utcnow
from monitor.text import normalise


@dataclass
class ParsedFeed:
    articles: list[Article] = field(default_factory=list)
    title: str = ""
    version: str = ""
    #: feedparser's ``bozo``: the feed was not well-formed (it may still have items).
    bozo: bool = False
    error: str = ""
    #: The feed's own ``<ttl>`` in minutes, if it states one.
    ttl_minutes: int | None = None
    #: feedparser's own result, for tests that check its documented expectations.
    raw: Any = None
    #: Entity declarations removed from the DOCTYPE before parsing (hostile or unbounded).
    refused_entities: int = 0
    #: Items that could not be read, each as its cause; their siblings are kept.
    skipped: list[str] = field(default_factory=list)

    @property
    def unusable(self) -> bool:
        """Nothing we could read: not a feed at all, or broken with no items."""
        return not self.articles and (self.bozo or not self.version)


def _when(entry: Mapping[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _entry_text(entry: Mapping[str, Any], title: str) -> tuple[str, str]:
    summary = normalise(html_to_text(entry.get("summary", "") or ""), title=title)
    contents = entry.get("content") or []
    text = max((normalise(html_to_text(c.get("value", "") or ""), title=title) for c in contents), key=len, default="")
    if text == summary:
        text = ""
    return summary, text


def entry_to_article(entry: Mapping[str, Any], *, feed_name: str, source: str, fetched_at: datetime) -> Article | None:
    """One feed item as an Article, or None when it has neither title nor text."""
    # normalise also decodes what html_to_text leaves: double-escaped "&amp;#8217;" titles.
    title = normalise(html_to_text(entry.get("title", "") or ""))
    summary, text = _entry_text(entry, title)
    if not (title or summary or text):
        return None
    url = (entry.get("link") or "").strip()
    guid = (entry.get("id") or "").strip()
    return Article(
        id=article_id(url=url, guid=guid, fallback=f"{feed_name}\x1f{title}\x1f{summary[:200]}"),
        title=title,
        summary=summary,
        text=text,
        url=url,
        feed=feed_name,
        source=source,
        published=_when(entry, "published_parsed", "updated_parsed", "created_parsed"),
        fetched_at=fetched_at,
        content_hash=content_hash(title, text or summary),
    )


def parse_feed(
    body: bytes,
    *,
    feed_name: str,
    source: str = "",
    headers: Mapping[str, str] | None = None,
    fetched_at: datetime | None = None,
    url: str = "",
) -> ParsedFeed:
    """Parse feed bytes fetched from ``url``; errors are reported on the result, never raised."""
    fetched_at = fetched_at or utcnow()
    harden_feedparser()
    response_headers = {key.lower(): value for key, value in (headers or {}).items()}
    if url:
        # As when feedparser fetches itself: relative links resolve against the document's
        # URL, or against a Content-Location the server named (relative to that URL).
        location = urljoin(url, response_headers.get("content-location", "").strip())
        response_headers["content-location"] = location if urlsplit(location).scheme in ("http", "https") else url
    body = _without_bad_references(body)
    with counting_refusals() as refused:
        try:
            result = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
        except Exception as exc:
            return ParsedFeed(bozo=True, error=f"{type(exc).__name__}: {exc}", refused_entities=sum(refused))
    feed = result.get("feed", {})
    source = source or html_to_text(feed.get("title", "") or "") or feed_name
    parsed = ParsedFeed(
        title=feed.get("title", "") or "",
        version=result.get("version", "") or "",
        bozo=bool(result.get("bozo")),
        error=repr(result.get("bozo_exception")) if result.get("bozo") else "",
        ttl_minutes=_ttl(feed.get("ttl")),
        raw=result,
        refused_entities=sum(refused),
    )
    read: list[tuple[Article, str]] = []
    for number, entry in enumerate(result.get("entries", []), start=1):
        try:
            article = entry_to_article(entry, feed_name=feed_name, source=source, fetched_at=fetched_at)
        except Exception as exc:  # one poison item must not cost its feed's other items
            parsed.skipped.append(
                f"item {number} ({(entry.get('link') or entry.get('id') or '')[:200]!r}): {type(exc).__name__}: {exc}"
            )
            continue
        if article is not None:
            read.append((article, (entry.get("id") or "").strip()))
    seen: set[str] = set()
    for article in _apart_by_guid(read):
        if article.id not in seen:  # the same item twice in one document
            seen.add(article.id)
            parsed.articles.append(article)
    return parsed


def _apart_by_guid(read: list[tuple[Article, str]]) -> list[Article]:
    """Items that share a link but not a guid are different items: a live blog's posts link
    to one page ("live#p1", "live#p2"; the fragment is not part of the canonical URL). They
    get an id of link and guid, so none is taken for a copy of another and dropped."""
    guids: dict[str, set[str]] = {}
    for article, guid in read:
        guids.setdefault(article.id, set()).add(guid)
    return [
        article.derive(id=short_hash("url+guid", article.id, guid)) if guid and len(guids[article.id]) > 1 else article
        for article, guid in read
    ]


#: A numeric character reference, in the document's bytes.
NUMERIC_REFERENCE = re.compile(rb"&#(?:([0-9]{1,9})|[xX]([0-9a-fA-F]{1,8}));")


def _without_bad_references(body: bytes) -> bytes:
    """References to code points no text may hold (a surrogate such as "&#55296;", NUL, or
    beyond U+10FFFF) become U+FFFD, as an HTML parser reads them. feedparser's loose parser
    raises on a surrogate, which would lose every item of the feed for one bad title."""
    if b"&#" not in body:
        return body

    def replace(match: re.Match[bytes]) -> bytes:
        point = int(match.group(1)) if match.group(1) else int(match.group(2), 16)
        return b"&#65533;" if point == 0 or 0xD800 <= point <= 0xDFFF or point > 0x10FFFF else match.group()

    return NUMERIC_REFERENCE.sub(replace, body)


def _ttl(value: Any) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes if minutes > 0 else None
