"""Tag agent: raw articles → spaCy micro-batches in the tag pool → tagged articles."""

from __future__ import annotations

import logging
import time
from typing import cast

import faust

from agents.context import WorkerContext
from agents.dead_letter import dead_letter_event, dead_letter_record
from monitor.models import Article

log = logging.getLogger(__name__)


def register(app: faust.App, topics, ctx: WorkerContext) -> None:
    metrics = ctx.metrics
    settings = ctx.settings
    # Label children looked up once, not per article.
    failed, tagged_count = metrics.articles.labels("failed"), metrics.articles.labels("tagged")

    @app.agent(topics.articles, name="tag")
    async def tag(stream: faust.StreamT) -> None:
        # take_events is on Faust's Stream, not on its StreamT protocol.
        async for events in cast(faust.Stream, stream).take_events(settings.nlp_batch_size, within=settings.nlp_batch_window_s):
            articles: list[Article] = []
            payloads: list[bytes] = []
            for event in events:
                try:
                    articles.append(Article.loads(event.value, serializer="json"))
                    payloads.append(event.value)
                except Exception as exc:
                    await dead_letter_event(topics, ctx, "tag", "undecodable", exc, event)
                    failed.inc()
            if not articles:
                continue
            started = time.perf_counter()
            results = await ctx.tagpool.tag(articles, payloads)
            elapsed = time.perf_counter() - started
            metrics.nlp_seconds.inc(elapsed)
            metrics.nlp_batch_seconds.observe(elapsed)
            metrics.nlp_batch_size.observe(len(articles))
            for result in results:
                if result.payload is None:
                    await dead_letter_record(
                        topics, ctx, "tag", "nlp_failed", result.error, key=result.article.id, payload=result.article
                    )
                    failed.inc()
                    continue
                # The pool's bytes as they are: decoding and re-encoding them here would change nothing.
                key = (result.route or result.article.id).encode()
                await topics.tagged.send(key=key, value=result.payload)
                tagged_count.inc()
