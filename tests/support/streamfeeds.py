"""Busy loopback feeds that publish a fixed sequence of articles a few at a time, for runs of
``newsmon run`` that must see every article (tests/runtime/test_rotation.py, bench/longrun.py).

Each fetch of a feed shows its next ``step`` items on top of the ones before, up to
``window`` items, as a busy outlet's feed does; an item stays in the feed for
``window / step`` fetches, so a poll lost to a restart (a poller stopped mid-cycle) misses
nothing. Item links are unique, so the article ids newsmon gives them are known in advance.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import yaml
from aiohttp import web

from monitor.ingest.identity import article_id
from monitor.models import Article
from tests.support.loopback import LoopbackServer


def background(count: int, prefix: str = "bg", paragraphs: int = 8) -> list[Article]:
    """Invented local news naming no watched actor (decided at once by the first pass), about
    300 + 170 × ``paragraphs`` characters long."""
    towns = ("Aarhus", "Bergen", "Cork", "Dijon", "Essen", "Faro", "Graz", "Haarlem", "Izmir", "Jena")
    acts = (
        "approves a budget for new bus routes",
        "opens a library branch",
        "repairs the harbour wall",
        "plants trees on the ring road",
    )
    out = []
    for seq in range(count):
        town, act = towns[seq % len(towns)], acts[(seq // len(towns)) % len(acts)]
        text = (
            f"The council of {town} {act}, officials said on Tuesday. Item {seq}: residents were consulted over "
            "several months and the work is expected to take two years. Local businesses welcomed the plan, "
            "while some neighbours asked for quieter construction hours. "
        ) + " ".join(
            f"Paragraph {k}: the {town} works committee will report on costs, contractors and the timetable "
            "at its next meeting, and the minutes will be published on the council's website."
            for k in range(paragraphs)
        )
        out.append(Article(id=f"{prefix}-{seq:06d}", title=f"{town} council {act} ({seq})", text=text, source=""))
    return out


class StreamFeeds:
    """``feeds`` feeds sharing ``articles`` round-robin, served from a loopback aiohttp server."""

    def __init__(self, articles: Sequence[Article], *, feeds: int = 4, step: int = 10, window: int = 60):
        self.feeds = [list(articles[i::feeds]) for i in range(feeds)]
        self.step = step
        self.window = window
        self.cursor = [0] * feeds
        #: When each item first appeared: its date (the poller paces a feed by its items' dates).
        self.dates: dict[tuple[int, int], datetime] = {}
        self.lock = threading.Lock()
        self.server = LoopbackServer(self._answer)

    def link(self, feed: int, article: Article) -> str:
        return f"https://feed{feed}.example.net/a/{article.id}"

    def ids(self) -> set[str]:
        """The ids newsmon gives every article these feeds will publish."""
        return {article_id(url=self.link(i, a)) for i, items in enumerate(self.feeds) for a in items}

    def published(self) -> int:
        with self.lock:
            return sum(self.cursor)

    def finished(self) -> bool:
        with self.lock:
            return all(c >= len(items) for c, items in zip(self.cursor, self.feeds))

    def write_feeds_yaml(self, config_dir: Path, interval_s: float = 1.0) -> None:
        feeds = [
            {"name": f"stream{i}", "url": self.server.url(f"/feed/{i}.xml"), "source": f"Stream {i}", "interval_s": interval_s}
            for i in range(len(self.feeds))
        ]
        (config_dir / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))

    async def _answer(self, request: web.Request) -> web.Response:
        name = request.path.rsplit("/", 1)[-1].removesuffix(".xml")
        if not name.isdigit() or int(name) >= len(self.feeds):
            return web.Response(status=404)
        index = int(name)
        items = self.feeds[index]
        now = datetime.now(UTC)
        with self.lock:
            self.cursor[index] = end = min(len(items), self.cursor[index] + self.step)
            shown = range(max(0, end - self.window), end)
            for seq in shown:
                self.dates.setdefault((index, seq), now)
        return web.Response(
            body=self._rss(index, [(seq, items[seq]) for seq in reversed(shown)]), content_type="application/rss+xml"
        )

    def _rss(self, index: int, items: list[tuple[int, Article]]) -> bytes:
        parts = []
        for seq, article in items:
            published = self.dates[(index, seq)]
            parts.append(
                "<item>"
                f"<title>{html.escape(article.title)}</title>"
                f"<link>{self.link(index, article)}</link>"
                f"<pubDate>{format_datetime(published)}</pubDate>"
                f"<description>{html.escape(article.text)}</description>"
                "</item>"
            )
        channel = (
            f"<title>stream {index}</title><link>https://feed{index}.example.net/</link><description>a busy feed</description>"
        )
        return f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>{channel}{"".join(parts)}</channel></rss>'.encode()

    def __enter__(self) -> StreamFeeds:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)
