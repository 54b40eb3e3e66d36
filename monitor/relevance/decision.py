"""The decision for one tagged article: relevance, story, and whether to alert.

Shared by the Faust detect agent (story books live in a table) and ``newsmon replay``
(books live in a dict), so ``replay`` says exactly what the daemon would do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from monitor.models import Alert, Decision, TaggedArticle
from monitor.relevance.novelty import FIRM, KIND_ESCALATION, alert_to_resend, new_alert
from monitor.relevance.rules import Judge, assess
from monitor.relevance.score import Scorer
from monitor.relevance.stories import Fingerprint, Placement, StoryBook, article_time
from monitor.watchlist import Watchlist


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    #: A new alert for the outbox.
    alert: Alert | None = None
    #: An alert this article raised before, sent to the outbox again (sinks dedupe it).
    resend: Alert | None = None
    new_story: bool = False
    placement: Placement | None = None


class Rulebook:
    """What ``decide`` needs from the watchlist, prepared once: rules, ladder stages, names."""

    def __init__(self, watchlist: Watchlist, *, threshold: float = 0.5, scorer: Scorer | None = None):
        self.rules = list(watchlist.rules)
        self.judge = Judge(
            rules=self.rules,
            scorer=scorer or Scorer.shipped(),
            threshold=threshold,
            sides=frozenset(actor for pair in watchlist.watch_pairs for actor in pair),
            lede_sentences=watchlist.windows.lede_sentences,
        )
        self.rungs = {action_id: action.rung for action_id, action in watchlist.actions.items()}
        self._names: dict[str, frozenset[str]] = {}
        self._watchlist = watchlist

    def route_names(self, route: str) -> frozenset[str]:
        """Lower-cased names of the route's states (shared by every article of the route).

        Their people stay key terms: "Putin and Xi hold a video call" is a development of its
        own, which the names of the two states alone would not tell apart.
        """
        if route not in self._names:
            words: set[str] = set()
            for actor_id in route.split("|"):
                actor = self._watchlist.actors.get(actor_id)
                if actor is None:
                    continue
                for phrase, kind in actor.surface_forms():
                    if kind == "person":
                        continue
                    words.add(phrase.lower())
                    words.update(w.lower().strip("'’") for w in phrase.split())
            self._names[route] = frozenset(words)
        return self._names[route]


def decide(book: StoryBook | None, tagged: TaggedArticle, policy: Rulebook) -> Verdict:
    """Decide about one article; ``book`` is the story state of its route (None: no route)."""
    assessment = assess(tagged, policy.judge)
    article = tagged.article
    base: dict[str, Any] = dict(
        id=article.id,
        relevant=assessment.relevant,
        score=round(assessment.score, 4),
        topics=assessment.topics,
        actors=tagged.actors,
        evidence=[item.sentence for item in assessment.evidence],
        claims=list(assessment.claims),
        title=article.title,
        source=article.outlet,
        url=article.url,
    )
    if book is None:
        return Verdict(Decision(alert=False, **base))
    fingerprint = Fingerprint.of(tagged, policy.route_names(book.route), assessment.topics, assessment.alerting)
    placement = book.place(tagged, article_time(tagged, book.clock, time.time()), fingerprint)
    story = placement.story
    raised = new_alert(placement, tagged, assessment, policy.rungs)
    alert = raised[0] if raised else None
    if raised is not None:
        story.record_alert(raised[0].id, article.id, raised[0].kind, raised[1])
    if not placement.repeat:
        story.remember([claim for claim in assessment.alerting if claim.modality in FIRM])
    decision = Decision(
        alert=alert is not None,
        story=story.id,
        new_story=placement.new_story,
        escalation=alert is not None and alert.kind == KIND_ESCALATION,
        corroboration=story.corroboration,
        alert_id=alert.id if alert else None,
        **base,
    )
    resend = None if alert else alert_to_resend(placement, tagged, assessment)
    return Verdict(decision, alert=alert, resend=resend, new_story=placement.new_story, placement=placement)
