"""Parsing: feed bytes in, articles out. feedparser never fetches anything itself.

feedparser is handed bytes we fetched (never a URL or a path: given a string it may open
files or URLs) plus the response headers, so it can honour the charset in Content-Type,
and the URL they came from as Content-Location, so relative links resolve. Its errors
come back on the result (``bozo``) instead of being raised; we keep them. Hostile XML
(entity bombs, external entities) is defused before either of its parsers sees it.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import pyexpat
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import feedparser.api

from monitor.ingest.identity import article_id, content_hash
from monitor.models import Article, utcnow

BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "tr",
        "section",
        "article",
        "figcaption",
    }
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


# ---------------------------------------------------------------------------------------
# Hostile XML. feedparser strips the DOCTYPE itself (``sanitizer.replace_doctype``) with
# line-anchored regular expressions that a declaration on a shared line slips past, and it
# keeps any short-valued entity, so one 100 KB entity referenced 100,000 times (the
# quadratic blowup) still expands to gigabytes in its loose parser. Ours reads the prolog
# properly and keeps only small internal entities whose total expansion is bounded;
# external entities (XXE), parameter entities and nested references never reach a parser.
# It runs at the same point as feedparser's (after the body was converted to UTF-8), so an
# attack in UTF-16 or EBCDIC is seen too.
# ---------------------------------------------------------------------------------------

MAX_ENTITY_VALUE = 256
#: Where replace_doctype reports how many entity declarations it refused (set by parse_feed).
_refused_entities: ContextVar[list[int] | None] = ContextVar("refused_entities", default=None)
MAX_ENTITIES = 32
MAX_ENTITY_EXPANSION = 1024 * 1024
_CHARREF = re.compile(rb"&#(?:[0-9]+|x[0-9a-fA-F]+);")
_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(%\s+)?([^\s%;>]+)\s+(.*?)\s*>\Z", re.DOTALL)
_SPACE = b" \t\r\n"


def _skip_quoted(data: bytes, i: int) -> int:
    """Index after the quoted literal starting at ``i`` (-1: unterminated)."""
    end = data.find(data[i : i + 1], i + 1)
    return -1 if end < 0 else end + 1


def _declarations(data: bytes, i: int) -> tuple[list[bytes], int]:
    """The markup declarations of an internal subset starting at ``i``; index after ']'."""
    found: list[bytes] = []
    while i < len(data):
        if data[i] in _SPACE:
            i += 1
        elif data[i : i + 1] == b"]":
            return found, i + 1
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            if end < 0:
                break
            i = end + 3
        elif data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            if end < 0:
                break
            i = end + 2
        elif data.startswith(b"<!", i):
            start, i = i, i + 2
            while i < len(data) and data[i : i + 1] != b">":
                i = _skip_quoted(data, i) if data[i : i + 1] in (b'"', b"'") else i + 1
                if i < 0:
                    return found, -1
            if i >= len(data):
                break
            i += 1
            found.append(data[start:i])
        elif data[i : i + 1] == b"%":  # a parameter-entity reference: dropped with the rest
            end = data.find(b";", i)
            if end < 0:
                break
            i = end + 1
        else:
            break
    return found, -1


def _find_doctype(data: bytes) -> tuple[int, int, list[bytes], bytes] | None:
    """(start, end, internal declarations, external id) of the prolog's DOCTYPE, if any."""
    i = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while i < len(data):
        if data[i] in _SPACE:
            i += 1
        elif data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            if end < 0:
                return None
            i = end + 2
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            if end < 0:
                return None
            i = end + 3
        elif data.startswith(b"<!DOCTYPE", i):
            start, j = i, i + 9
            declarations: list[bytes] = []
            head = bytearray()
            while j < len(data):
                char = data[j : j + 1]
                if char in (b'"', b"'"):
                    end = _skip_quoted(data, j)
                    if end < 0:
                        return None
                    head += data[j:end]
                    j = end
                elif char == b"[":
                    declarations, j = _declarations(data, j + 1)
                    if j < 0:
                        return None
                elif char == b">":
                    return start, j + 1, declarations, bytes(head)
                else:
                    head += char
                    j += 1
            return None
        else:
            return None
    return None


def _safe_entities(declarations: list[bytes], document: bytes) -> dict[bytes, bytes]:
    """The internal general entities that are harmless to expand, by name."""
    safe: dict[bytes, bytes] = {}
    for declaration in declarations:
        match = _ENTITY_DECL.match(declaration)
        if not match or match.group(1):  # not an entity, or a parameter entity
            continue
        name, rest = match.group(2), match.group(3)
        if len(rest) < 2 or rest[:1] not in (b'"', b"'") or rest[-1:] != rest[:1]:
            continue  # SYSTEM/PUBLIC: an external entity (XXE)
        value = rest[1:-1]
        if len(value) > MAX_ENTITY_VALUE or b'"' in value:
            continue
        if b"<" in _CHARREF.sub(b"", value) or b"&" in _CHARREF.sub(b"", value) or b"%" in value:
            continue  # markup or nested references (billion laughs)
        safe[name] = value
    if len(safe) > MAX_ENTITIES:
        return {}
    expansion = sum(document.count(b"&" + name + b";") * len(value) for name, value in safe.items())
    return safe if expansion <= MAX_ENTITY_EXPANSION else {}


def replace_doctype(data: bytes) -> tuple[str | None, bytes, dict[str, str]]:
    """feedparser's ``replace_doctype`` contract: (version, data, entities), hardened."""
    found = _find_doctype(data)
    if found is None:
        return None, data, {}
    start, end, declarations, head = found
    version = "rss091n" if b"netscape" in head.lower() else None
    safe = _safe_entities(declarations, data[end:])
    replacement = b""
    if safe:
        replacement = b"<!DOCTYPE feed [\n" + b"".join(b'<!ENTITY %s "%s">\n' % item for item in safe.items()) + b"]>"
    entities = {name.decode("utf-8", "replace"): value.decode("utf-8", "replace") for name, value in safe.items()}
    refused = sum(1 for declaration in declarations if declaration.startswith(b"<!ENTITY")) - len(safe)
    report = _refused_entities.get()
    if report is not None and refused:
        report.append(refused)
    return version, data[:start] + replacement + data[end:], entities


def harden_feedparser() -> None:
    """Route feedparser's DOCTYPE handling through ours (idempotent; see above)."""
    feedparser.api.replace_doctype = replace_doctype


def expat_status() -> tuple[str, bool]:
    """The Expat version Python parses with, and whether it limits entity amplification.

    Expat 2.4.0 added billion-laughs protection and 2.4.1 fixed it; older builds rely on
    our DOCTYPE filter alone.
    """
    return pyexpat.EXPAT_VERSION, pyexpat.version_info >= (2, 4, 1)


# ---------------------------------------------------------------------------------------
# Parsing only what changed. A feed that changed usually differs by a few items; feedparser
# costs ~1 ms per item, so the poller parses only the items whose bytes it has not seen.
# Expat (C, no entity handling needed: documents with a DOCTYPE take the full path) finds
# the byte span of every top-level <item>/<entry>; unchanged spans are cut out and the rest
# — prolog, channel, new or edited items — goes through the same parse_feed.
# ---------------------------------------------------------------------------------------

ITEM_ELEMENTS = frozenset({"item", "entry"})
ITEM_PARENTS = frozenset({"channel", "rdf", "feed"})
_UNICODE_WIDE = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00", b"\x00<", b"<\x00")


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1].lower()


def item_spans(body: bytes) -> list[tuple[int, int]] | None:
    """Byte spans of the feed's items, or None when the document needs the full parser."""
    if b"<!DOCTYPE" in body or body[:2] in _UNICODE_WIDE:
        return None
    parser = pyexpat.ParserCreate()
    stack: list[str] = []
    starts: list[int] = []
    spans: list[tuple[int, int]] = []

    def start(name: str, _attrs) -> None:
        local = _local(name)
        if local in ITEM_ELEMENTS and stack and stack[-1] in ITEM_PARENTS:
            starts.append(parser.CurrentByteIndex)
            stack.append("\x00item")  # marks an item we measure
        else:
            stack.append(local)

    def end(_name: str) -> None:
        if stack.pop() == "\x00item":
            at = parser.CurrentByteIndex
            close = body.find(b">", at)
            if close < 0 or not (body.startswith(b"</", at) or body[close - 1 : close] == b"/"):
                raise ValueError("item end not where expat says")
            spans.append((starts.pop(), close + 1))

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(body, True)
    except (pyexpat.ExpatError, ValueError):
        return None
    return spans


def item_digest(item: bytes) -> bytes:
    """8 bytes that change when an item's bytes change."""
    return hashlib.blake2b(item, digest_size=8).digest()


def without_spans(body: bytes, spans: list[tuple[int, int]]) -> bytes:
    """``body`` with the given (sorted, disjoint) byte spans cut out."""
    pieces, at = [], 0
    for start, end in spans:
        pieces.append(body[at:start])
        at = end
    pieces.append(body[at:])
    return b"".join(pieces)


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
    refused: list[int] = []
    token = _refused_entities.set(refused)
    try:
        result = feedparser.parse(io.BytesIO(body), response_headers=response_headers)
    except Exception as exc:
        return ParsedFeed(bozo=True, error=f"{type(exc).__name__}: {exc}", refused_entities=sum(refused))
    finally:
        _refused_entities.reset(token)
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
