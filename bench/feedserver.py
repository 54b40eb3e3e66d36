"""The benchmark's feed server: many loopback "hosts", conditional GET, a new round on demand.

Runs in its own process (it needs CPU of its own) so the poller's CPU time is the
poller's alone. Feed ``i`` lives at ``http://127.0.0.<1 + i % hosts>:<port>/feed/<i>``.
Feeds with ``i % every == 0`` change every round (three new items on top of a real news
snapshot from ../shared/feeds/news, read at run time); the others never change after
the first poll and answer a conditional GET with 304.
"""

from __future__ import annotations

import asyncio
import re
from functools import lru_cache
from pathlib import Path

from aiohttp import web

NEW_ITEMS = 3
_FIRST_ITEM = re.compile(rb"<item[\s>]")
TINY = b'<?xml version="1.0"?><rss version="2.0"><channel><title>quiet %d</title><item><title>Still here</title><link>https://bench.example/quiet/%d</link><description>Nothing new.</description></item></channel></rss>'


class FeedBodies:
    """The bytes of every feed in every round; the bench process builds the same ones."""

    def __init__(self, news_dir: Path, every: int):
        self.snapshots = [p.read_bytes() for p in sorted(news_dir.glob("*.xml"))]
        self.every = every

    def changes(self, index: int) -> bool:
        return index % self.every == 0

    def etag(self, index: int, round_: int) -> str:
        return f'"{index}-{round_ if self.changes(index) else 0}"'

    def body(self, index: int, round_: int) -> bytes:
        if not self.changes(index):
            return TINY % (index, index)
        return self._changed(index, round_)

    @lru_cache(maxsize=2048)  # noqa: B019 - one server per benchmark process; bounded cache
    def _changed(self, index: int, round_: int) -> bytes:
        snapshot = self.snapshots[(index // self.every) % len(self.snapshots)]
        fresh = b"".join(  # every round adds three items on top of the earlier rounds' ones
            b"<item><title>Round %d story %d of feed %d</title><link>https://bench.example/%d/%d/%d</link>"
            b"<description>A new item published in round %d.</description></item>" % (r, k, index, index, r, k, r)
            for r in range(round_, 0, -1)
            for k in range(NEW_ITEMS)
        )
        match = _FIRST_ITEM.search(snapshot)
        at = match.start() if match else snapshot.rfind(b"</channel>")
        return snapshot[:at] + fresh + snapshot[at:]


def serve(port_queue, round_value, news_dir: str, every: int, hosts: int) -> None:
    """Process entry point: serve until killed; the current round is ``round_value.value``."""
    bodies = FeedBodies(Path(news_dir), every)

    async def feed(request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        round_ = round_value.value
        etag = bodies.etag(index, round_)
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=bodies.body(index, round_), headers={"ETag": etag, "Content-Type": "application/rss+xml"})

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/feed/{index}", feed)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        first = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await first.start()
        port = first._server.sockets[0].getsockname()[1]
        for host in range(2, hosts + 1):
            await web.TCPSite(runner, f"127.0.0.{host}", port, backlog=1024).start()
        port_queue.put(port)
        await asyncio.Event().wait()

    asyncio.run(main())
