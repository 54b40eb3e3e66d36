"""Detect agent: tagged articles → story placement → decisions, and alerts to the outbox.

Story books live in a table keyed by route (the watched pair), the same key the tagged
topic is partitioned by, so one worker owns each pair's stories however many run. Mutes
from the console's ``feedback`` topic, keyed by route too, live in a table beside them: a
muted story raises no more alerts (its articles are still decided and placed).
"""

from __future__ import annotations

import logging

import faust
from prometheus_client import Counter

from agents.context import WorkerContext
from agents.dead_letter import dead_letter_event
from agents.state import state_table
from monitor.models import Feedback, TaggedArticle, trusted_loads, utcnow
from monitor.relevance.decision import Rulebook, Verdict, decide
from monitor.relevance.stories import StoryBook

log = logging.getLogger(__name__)

#: Muted stories remembered per route; the oldest give way (stories expire long before).
MAX_MUTES = 500


def silenced(verdict: Verdict) -> Verdict:
    """The verdict without its alert: what a muted story's article gets."""
    decision = verdict.decision.derive(alert=False, escalation=False, alert_id=None)
    return Verdict(decision, alert=None, resend=None, new_story=verdict.new_story, placement=verdict.placement)


def register(app: faust.App, topics, ctx: WorkerContext) -> None:
    policy = Rulebook(ctx.watchlist, threshold=ctx.settings.relevance_threshold)
    # Label children looked up once, not per article.
    counted = ctx.metrics.articles.labels("decided"), ctx.metrics.articles.labels("relevant")
    books = state_table(app, ctx.settings, "stories")
    mutes = state_table(app, ctx.settings, "mutes")

    @app.agent(topics.feedback, name="mutes")
    async def mute(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                item = Feedback.loads(event.value, serializer="json")
            except Exception as exc:
                await dead_letter_event(topics, ctx, "detect", "undecodable", exc, event)
                continue
            if item.verdict == "mute" and item.route and item.story_id not in (mutes.get(item.route) or ()):
                mutes[item.route] = [*(mutes.get(item.route) or ()), item.story_id][-MAX_MUTES:]
                log.info("muted story %s of %s", item.story_id, item.route)

    @app.agent(topics.tagged, name="detect")
    async def detect(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                # Only our tag stage writes this topic, from records it validated.
                tagged = trusted_loads(TaggedArticle, event.value)
            except Exception as exc:
                await dead_letter_event(topics, ctx, "detect", "undecodable", exc, event)
                continue
            route = tagged.route
            book = StoryBook.from_state(route, books.get(route), ctx.settings.story_window_s) if route else None
            try:
                verdict = decide(book, tagged, policy)
            except Exception as exc:
                log.exception("detect failed for article %s", tagged.article.id)
                await dead_letter_event(topics, ctx, "detect", "detect_failed", exc, event)
                continue
            if verdict.decision.story in (mutes.get(route) or ()) and (verdict.alert or verdict.resend):
                log.info("story %s is muted: no alert for article %s", verdict.decision.story, tagged.article.id)
                verdict = silenced(verdict)
            outgoing = verdict.alert or verdict.resend
            if outgoing is not None:
                # The outbox first, then the story state: a crash in between re-processes
                # the article, which finds no story change and re-sends the same alert id.
                await topics.alerts.send(key=outgoing.story_id.encode(), value=outgoing.dumps(serializer="json"))
            if book is not None:
                books[route] = book.state()
            decision = verdict.decision
            await topics.decisions.send(key=decision.id.encode(), value=decision.dumps(serializer="json"))
            _observe(ctx, tagged, verdict, counted)


def _observe(ctx: WorkerContext, tagged: TaggedArticle, verdict, counted: tuple[Counter, Counter]) -> None:
    metrics = ctx.metrics
    decision = verdict.decision
    decided, relevant = counted
    decided.inc()
    fetched = tagged.article.fetched_at
    if fetched is not None:
        metrics.processing_seconds.observe(max(0.0, (utcnow() - fetched).total_seconds()))
    if decision.relevant:
        relevant.inc()
        for topic in decision.topics:
            metrics.mentions.labels(topic, decision.source or "unknown").inc()
            if tagged.route:
                metrics.pair_mentions.labels(topic, tagged.route).inc()
    for claim in decision.claims:
        metrics.claims.labels(claim.topic, "|".join(sorted((claim.subject, claim.object)))).inc()
    if verdict.new_story:
        metrics.stories_created.inc()
    if verdict.alert is not None:
        metrics.alerts.labels(verdict.alert.rule, verdict.alert.kind).inc()
        if fetched is not None:
            metrics.feed_to_alert_seconds.observe(max(0.0, (utcnow() - fetched).total_seconds()))
