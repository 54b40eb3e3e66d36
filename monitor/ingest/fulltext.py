"""Full text: when a feed item carries only a summary, read the article page itself.

Only for feeds configured with ``full_text: true``. The page is fetched by
``monitor.ingest.fetch`` (same deadline, body cap, redirect checks and address guard as a feed)
and its main text is extracted by trafilatura from the bytes we hand it — trafilatura
never fetches anything itself. The article keeps its summary; the page's text goes into
``text``. A feed's full-text work is bounded (pages per poll, pages at once, one time
budget for all), so a slow publisher delays that feed's items by at most the budget and
never stalls the other feeds; items it could not enrich go out with their summary.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from monitor.ingest.fetch import PAGE_ACCEPT, fetch
from monitor.models import Article
from monitor.runtime.metrics import Metrics
from monitor.settings import Settings
from monitor.text import normalise

log = logging.getLogger(__name__)

#: Extraction threads, by pool size. A thread cannot be stopped: an extraction the budget
#: abandoned (a pathological page) runs on, but it holds one of these ``fulltext_concurrency``
#: threads only, never the loop's default executor that the poller's other blocking calls
#: share, and the extractions queued behind it are cancelled before they start.
_EXTRACTORS: dict[int, ThreadPoolExecutor] = {}


def _extractor(size: int) -> ThreadPoolExecutor:
    pool = _EXTRACTORS.get(size)
    if pool is None:
        pool = _EXTRACTORS[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="newsmon-fulltext")
    return pool


def needs_full_text(article: Article) -> bool:
    """True when the feed gave only a summary (or nothing) and there is a page to read."""
    return not article.text and article.url.startswith(("http://", "https://"))


def extract_text(page: bytes, url: str = "", title: str = "") -> str:
    """Main text of an HTML page as paragraphs, normalised for NLP; "" when nothing article-like is found."""
    import trafilatura  # heavy (lxml, dateparser); only full-text feeds pay for it

    try:
        text = trafilatura.extract(
            page,
            url=url or None,
            include_comments=False,
            include_tables=False,
            include_images=False,
            include_links=False,
            favor_precision=True,
            with_metadata=False,
        )
    except Exception as exc:
        log.warning("full text of %s: extractor failed: %s: %s", url, type(exc).__name__, exc)
        return ""
    return normalise(text or "", title=title)


async def _enrich_one(session, article: Article, settings: Settings, metrics: Metrics) -> Article:
    result = await fetch(session, article.url, settings, accept=PAGE_ACCEPT)
    if result.outcome != "ok":
        metrics.fulltext.labels(result.outcome if result.outcome != "not_modified" else "empty").inc()
        log.info("full text of %s: %s: %s", article.url, result.outcome, result.error)
        return article
    # CPU-bound (lxml and heuristics): off the event loop so other feeds keep moving.
    pool = _extractor(settings.fulltext_concurrency)
    text = await asyncio.get_running_loop().run_in_executor(pool, extract_text, result.body, result.url, article.title)
    metrics.fulltext.labels("ok" if text else "empty").inc()
    return article.derive(text=text) if text else article


async def enrich(session, articles: Sequence[Article], settings: Settings, metrics: Metrics) -> list[Article]:
    """``articles`` with the page text filled in where the feed gave only a summary.

    Never raises; an article whose page could not be read within the limits is returned
    as it came.
    """
    out = list(articles)
    wanted = [i for i, article in enumerate(out) if needs_full_text(article)]
    chosen, skipped = wanted[: settings.fulltext_max_per_poll], wanted[settings.fulltext_max_per_poll :]
    if skipped:
        metrics.fulltext.labels("skipped").inc(len(skipped))
    if not chosen:
        return out
    limit = asyncio.Semaphore(settings.fulltext_concurrency)

    async def one(index: int) -> None:
        async with limit:
            out[index] = await _enrich_one(session, out[index], settings, metrics)

    tasks = [asyncio.create_task(one(index)) for index in chosen]
    done, pending = await asyncio.wait(tasks, timeout=settings.fulltext_budget_s)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
        metrics.fulltext.labels("timeout").inc(len(pending))
        log.info("full text: %d pages not read within the %g s budget", len(pending), settings.fulltext_budget_s)
    for task in done:
        if task.exception() is not None:  # a bug, not the network: keep the summary, say why
            log.error("full text: %s", task.exception(), exc_info=task.exception())
    return out
