"""The decision for one tagged article: relevance, story, and whether to alert.

Shared by the Faust detect agent (story books live in a table) and ``newsmon replay``
(books live in a dict), so ``replay`` says exactly what the daemon would do.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.detect import assess
from monitor.models import Alert, Decision, TaggedArticle
from monitor.novelty import new_alert, replayed_alert
from monitor.stories import StoryBook


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    #: A new alert for the outbox.
    alert: Alert | None = None
    #: An alert this article raised before, sent to the outbox again (sinks dedupe it).
    resend: Alert | None = None
    new_story: bool = False


def decide(book: StoryBook | None, tagged: TaggedArticle) -> Verdict:
    """Decide about one article; ``book`` is the story state of its route (None: no route)."""
    assessment = assess(tagged)
    article = tagged.article
    base = dict(
        id=article.id,
        relevant=assessment.relevant,
        topics=assessment.topics,
        actors=tagged.actors,
        evidence=[item.sentence for item in assessment.evidence],
        claims=list(tagged.claims),
        title=article.title,
        source=article.source or article.feed,
        url=article.url,
    )
    if book is None:
        return Verdict(Decision(alert=False, **base))
    placement = book.place(tagged, article.event_time.timestamp())
    alert = new_alert(placement, tagged, assessment)
    if alert is not None:
        placement.story.alerts[alert.id] = article.id
    decision = Decision(
        alert=alert is not None,
        story=placement.story.id,
        new_story=placement.new_story,
        escalation=alert is not None and alert.kind == "escalation",
        corroboration=placement.story.corroboration,
        alert_id=alert.id if alert else None,
        **base,
    )
    resend = None if alert else replayed_alert(placement, tagged, assessment)
    return Verdict(decision, alert=alert, resend=resend, new_story=placement.new_story)
