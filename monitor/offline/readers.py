"""Reading article files: JSON Lines, JSON, CSV, plain text and RSS/Atom.

Used by ``newsmon replay``, the evaluation and the benchmarks, so every measurement reads
articles the same way. Field names vary between datasets; the aliases below cover the
corpora we test on (``articles``/``headlines`` in the Kaggle CSVs, ``content`` in JSON).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from monitor.ingest.identity import article_id, content_hash
from monitor.models import Article
from monitor.text import normalise

TEXT_FIELDS = ("text", "content", "articles", "article", "body")
TITLE_FIELDS = ("title", "headline", "headlines")
DATE_FIELDS = ("published", "date", "pubDate", "published_at", "first_recorded")
URL_FIELDS = ("url", "link")
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}


class UnreadableInput(ValueError):
    """A file newsmon cannot read as articles (unknown suffix, no text column…)."""


def parse_date(value: Any) -> datetime | None:
    """A timezone-aware datetime from ISO 8601, RFC 2822 or ``YYYY/MM/DD``; else None."""
    if value in (None, ""):
        return None
    parsed: datetime | None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        parsed = None
        for attempt in (
            lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")),
            parsedate_to_datetime,
            lambda t: datetime.strptime(t, "%Y/%m/%d"),
        ):
            try:
                parsed = attempt(text)
                break
            except (ValueError, TypeError, IndexError):
                continue
        if parsed is None:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _first(record: dict[str, Any], names: Iterable[str]) -> str:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def article_from_record(record: dict[str, Any], fallback_id: str, source: str = "") -> Article:
    """An Article from one dict-like record, whatever the dataset calls its fields."""
    title = normalise(_first(record, TITLE_FIELDS))
    text = normalise(_first(record, TEXT_FIELDS), title=title)
    url = _first(record, URL_FIELDS)
    given_id = _first(record, ("id", "guid"))
    if given_id:
        ident = given_id
    elif url:
        ident = article_id(url=url)
    else:
        ident = fallback_id
    return Article(
        id=ident,
        title=title,
        text=text,
        url=url,
        source=_first(record, ("source", "outlet")) or source,
        published=parse_date(_first(record, DATE_FIELDS)),
        content_hash=content_hash(title, text),
    )


def _read_jsonl(path: Path) -> Iterator[Article]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield article_from_record(json.loads(line), f"{path.stem}:{number}")


def _read_json(path: Path) -> Iterator[Article]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("articles", [data])
    for number, record in enumerate(data, 1):
        yield article_from_record(record, f"{path.stem}:{number}")


def _read_csv(path: Path) -> Iterator[Article]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # article bodies exceed the 128 KiB default
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not set(reader.fieldnames) & set(TEXT_FIELDS):
            raise UnreadableInput(f"{path}: CSV needs a header with one of the columns {', '.join(TEXT_FIELDS)}")
        for number, row in enumerate(reader, 2):
            yield article_from_record(row, f"{path.stem}:{number}")


def _read_text(path: Path) -> Iterator[Article]:
    text = path.read_text(encoding="utf-8", errors="replace")
    # A plain-text article's headline is its first line that reads like one: category
    # banners ("International") and date stamps come first in scraped pages.
    title = next((line.strip() for line in text.splitlines() if len(line.split()) >= 4), "")
    body = text
    if title:
        body = text.split(title, 1)[1]
    title = normalise(title)
    body = normalise(body, title=title)
    yield Article(id=path.stem, title=title, text=body, content_hash=content_hash(title, body))


def _read_feed(path: Path) -> Iterator[Article]:
    from monitor.ingest.parse import parse_feed

    parsed = parse_feed(path.read_bytes(), feed_name=path.stem, source=path.stem)
    yield from parsed.articles


def read_articles(paths: Iterable[Path]) -> Iterator[Article]:
    """Every article of every file, in file order then record order."""
    for path in paths:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            yield from _read_jsonl(path)
        elif suffix == ".json":
            yield from _read_json(path)
        elif suffix == ".csv":
            yield from _read_csv(path)
        elif suffix == ".txt":
            yield from _read_text(path)
        elif suffix in FEED_SUFFIXES:
            yield from _read_feed(path)
        else:
            raise UnreadableInput(
                f"{path}: unknown article file type {suffix!r}; use .jsonl, .json, .csv, .txt or an RSS/Atom .xml"
            )
