"""Parsing: feed bytes in, articles out. feedparser never fetches anything itself.

feedparser is handed bytes we fetched (never a URL or a path: given a string it may open
files or URLs) plus the response headers, so it can honour the charset in Content-Type.
Its errors come back on the result (``bozo``) instead of being raised; we keep them.
"""

from __future__ import annotations

import calendar
import html
import io
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any, Mapping

import feedparser

from monitor.identity import article_id, content_hash
from monitor.models import Article, utcnow

BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr", "section", "article", "figcaption"}
)
SKIP_TAGS = frozenset({"script", "style", "noscript", "template"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in SKIP_TAGS:
            self._skip += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS and self._skip:
            self._skip -= 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment, one paragraph per line."""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return "\n".join(line for line in lines if line)


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

    @property
    def unusable(self) -> bool:
        """Nothing we could read: not a feed at all, or broken with no items."""
        return not self.articles and (self.bozo or not self.version)


def _when(entry: Mapping[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=timezone.utc)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _entry_text(entry: Mapping[str, Any]) -> tuple[str, str]:
    summary = html_to_text(entry.get("summary", "") or "")
    contents = entry.get("content") or []
    text = max((html_to_text(c.get("value", "") or "") for c in contents), key=len, default="")
    if text == summary:
        text = ""
    return summary, text


def entry_to_article(entry: Mapping[str, Any], *, feed_name: str, source: str, fetched_at: datetime) -> Article | None:
    """One feed item as an Article, or None when it has neither title nor text."""
    title = html.unescape(html_to_text(entry.get("title", "") or ""))
    summary, text = _entry_text(entry)
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
) -> ParsedFeed:
    """Parse feed bytes; errors are reported on the result, never raised."""
    fetched_at = fetched_at or utcnow()
    try:
        result = feedparser.parse(io.BytesIO(body), response_headers=dict(headers or {}))
    except Exception as exc:  # noqa: BLE001 - feedparser's own bugs must not kill the poller
        return ParsedFeed(bozo=True, error=f"{type(exc).__name__}: {exc}")
    feed = result.get("feed", {})
    source = source or html_to_text(feed.get("title", "") or "") or feed_name
    parsed = ParsedFeed(
        title=feed.get("title", "") or "",
        version=result.get("version", "") or "",
        bozo=bool(result.get("bozo")),
        error=repr(result.get("bozo_exception")) if result.get("bozo") else "",
        ttl_minutes=_ttl(feed.get("ttl")),
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
