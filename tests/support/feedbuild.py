"""RSS built at test time from article files, served on loopback like a real feed."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from monitor.offline.readers import read_articles


def rss_from_files(paths: list[Path], *, base_url: str = "https://news.example.org", start: datetime | None = None) -> bytes:
    """An RSS 2.0 document with one item per article file (title, link, guid, date, full text)."""
    start = start or datetime(2022, 3, 14, 9, 0, tzinfo=UTC)
    items = []
    for index, (path, article) in enumerate(zip(paths, read_articles(paths))):
        paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in article.text.splitlines() if line.strip())
        published = format_datetime(start + timedelta(minutes=10 * index))
        items.append(
            "<item>"
            f"<title>{html.escape(article.title)}</title>"
            f"<link>{base_url}/{path.stem}</link>"
            f'<guid isPermaLink="false">{path.stem}</guid>'
            f"<pubDate>{published}</pubDate>"
            f"<description>{html.escape(paragraphs)}</description>"
            "</item>"
        )
    channel = (
        "<title>newsmon test feed</title><link>https://news.example.org/</link>"
        "<description>Articles served on loopback for tests</description>"
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>{channel}{"".join(items)}</channel></rss>'.encode()
    )
