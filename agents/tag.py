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

    @app.agent(topics.articles, name="tag")
    async def tag(stream: faust.StreamT) -> None:
        # take_events is on Faust's Stream, not on its StreamT protocol.
        async for events in cast(faust.Stream, stream).take_events(settings.nlp_batch_size, within=settings.nlp_batch_window_s):
            articles: list[Article] = []
            for event in events:
                try:
                    articles.append(Article.loads(event.value, serializer="json"))
                except Exception as exc:
                    await dead_letter_event(topics, ctx, "tag", "undecodable", exc, event)
                    metrics.articles.labels("failed").inc()
            if not articles:
                continue
            started = time.perf_counter()
            results = await ctx.tagpool.tag(articles)
            elapsed = time.perf_counter() - started
            metrics.nlp_seconds.inc(elapsed)
            metrics.nlp_batch_seconds.observe(elapsed)
            metrics.nlp_batch_size.observe(len(articles))
            for result in results:
                if result.tagged is None:
                    await dead_letter_record(
                        topics, ctx, "tag", "nlp_failed", result.error, key=result.article.id, payload=result.article
                    )
                    metrics.articles.labels("failed").inc()
                    continue
                tagged = result.tagged
                key = (tagged.route or tagged.article.id).encode()
                await topics.tagged.send(key=key, value=tagged.dumps(serializer="json"))
                metrics.articles.labels("tagged").inc()
