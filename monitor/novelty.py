"""Novelty: does this article tell the analyst something new?

First version: the first relevant article of a story raises an alert; the same article
again, or a near-duplicate in the same story, does not.
"""

from __future__ import annotations

from monitor.detect import Assessment
from monitor.identity import short_hash
from monitor.models import Alert, TaggedArticle, utcnow
from monitor.stories import Placement, Story, source_of

KIND_NEW = "new"
KIND_ESCALATION = "escalation"


def alert_id(story: Story, kind: str, change: str = "") -> str:
    """Deterministic, so a reprocessed article yields the same id and sinks dedupe it."""
    return short_hash("alert", story.id, kind, change)


def make_alert(story: Story, tagged: TaggedArticle, assessment: Assessment, kind: str, change: str = "") -> Alert:
    article = tagged.article
    first_id = alert_id(story, KIND_NEW)
    return Alert(
        id=alert_id(story, kind, change),
        story_id=story.id,
        kind=kind,
        headline=story.headline or article.title or assessment.evidence[0].sentence[:150],
        topics=assessment.topics,
        actors=sorted({actor for item in assessment.evidence for actor in item.actors}),
        evidence=assessment.evidence[:5],
        claims=list(tagged.claims),
        rule=assessment.rule,
        article_id=article.id,
        source=source_of(tagged),
        url=article.url,
        first_source=story.first_source,
        corroboration=story.corroboration,
        first_seen=article.fetched_at or article.published,
        published=article.published,
        fetched_at=article.fetched_at,
        created_at=utcnow(),
        updates=first_id if kind != KIND_NEW else "",
    )


def new_alert(placement: Placement, tagged: TaggedArticle, assessment: Assessment) -> Alert | None:
    """An alert to raise now, or None when the article adds nothing new."""
    story = placement.story
    if not assessment.relevant or placement.repeat:
        return None
    if story.alerts:
        return None
    return make_alert(story, tagged, assessment, KIND_NEW)


def replayed_alert(placement: Placement, tagged: TaggedArticle, assessment: Assessment) -> Alert | None:
    """The alert this same article raised before, for at-least-once delivery after a crash.

    The worker may have stored the story but died before the alert reached the outbox;
    sending it again is safe because sinks deliver each alert id once.
    """
    if not placement.repeat or not assessment.relevant:
        return None
    for known_id, article_id in placement.story.alerts.items():
        if article_id == tagged.article.id and known_id == alert_id(placement.story, KIND_NEW):
            return make_alert(placement.story, tagged, assessment, KIND_NEW)
    return None
