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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import feedparser.api

from monitor.ingest.doctype import counting_refusals, harden_feedparser
from monitor.ingest.htmltext import html_to_text
from monitor.ingest.identity import article_id, content_hash
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
    seen: set[str] = set()
    for entry in result.get("entries", []):
        article = entry_to_article(entry, feed_name=feed_name, source=source, fetched_at=fetched_at)
        if article is not None and article.id not in seen:
            seen.add(article.id)
            parsed.articles.append(article)
    return parsed


def _ttl(value: Any) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes if minutes > 0 else None
