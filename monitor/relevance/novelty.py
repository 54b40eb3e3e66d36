"""Novelty: does this article tell the analyst something new?

* The first article of a story with an alerting claim raises a **new** alert.
* Later, an article raises an **escalation** only when one of its alerting claims is a new
  development for the story: an actor pair the story has not reported (USA→CHN sanctions
  after RUS→CHN request), or a higher stage on its topic's ladder for a known pair
  (request → delivery, threat → imposition; rungs come from the watchlist's actions).
  Only firm claims (asserted or attributed) climb: "the US could sanction…" or "if China
  helps…" does not escalate, and a later firm report of the same act still can.
* Anything else — a re-report in other words, a copy, the same article again — only adds
  to the story's corroboration (distinct outlets).

Alert ids are derived from the story and what changed, so reprocessing the same article
after a crash yields the same id and sinks deliver it once.
"""

from __future__ import annotations

from monitor.ingest.identity import short_hash
from monitor.models import Alert, Claim, TaggedArticle, utcnow
from monitor.relevance.rules import Assessment
from monitor.relevance.stories import Placement, Story, claim_kind, source_of

KIND_NEW = "new"
KIND_ESCALATION = "escalation"
#: Modalities that state an act as having happened (or been said to): these escalate a story.
FIRM = frozenset({"asserted", "attributed"})


def alert_id(story: Story, kind: str, change: str = "") -> str:
    """Deterministic, so a reprocessed article yields the same id and sinks dedupe it."""
    return short_hash("alert", story.id, kind, change)


def escalations(story: Story, claims: list[Claim], rungs: dict[str, int]) -> list[Claim]:
    """The claims that take the story further: a new actor pair, or a higher stage."""
    pairs: set[frozenset[str]] = set()
    top: dict[tuple[frozenset[str], str], int] = {}
    for subject, action, obj, topic in story.claim_kinds:
        pair = frozenset((subject, obj))
        pairs.add(pair)
        top[(pair, topic)] = max(top.get((pair, topic), 0), rungs.get(action, 0))
    found = []
    for claim in claims:
        if claim.modality not in FIRM:
            continue
        pair = frozenset((claim.subject, claim.object))
        if pair not in pairs or rungs.get(claim.action, 0) > top.get((pair, claim.topic), 0):
            found.append(claim)
    return found


def change_of(claims: list[Claim]) -> str:
    """What an escalation adds, as a stable string (part of the alert id)."""
    return ";".join(sorted({"|".join(claim_kind(c)) for c in claims}))


def make_alert(
    story: Story,
    tagged: TaggedArticle,
    assessment: Assessment,
    kind: str,
    change: str = "",
    claims: list[Claim] | None = None,
) -> Alert:
    article = tagged.article
    claims = list(assessment.alerting if claims is None else claims)
    indexes = {claim.index for claim in claims}
    evidence = [item for item in assessment.evidence if item.index in indexes] or assessment.evidence
    first_id = alert_id(story, KIND_NEW)
    return Alert(
        id=alert_id(story, kind, change),
        story_id=story.id,
        kind=kind,
        # A story opened by an article without title or text has no headline; a decoded record
        # may even carry claims without their evidence sentences.
        headline=story.headline or article.title or (evidence[0].sentence[:150] if evidence else ""),
        topics=sorted({claim.topic for claim in claims}) or assessment.topics,
        actors=sorted({a for claim in claims for a in (claim.subject, claim.object, claim.about) if a})
        or sorted({a for item in evidence for a in item.actors}),
        evidence=evidence[:5],
        claims=claims[:10],
        rule=assessment.rule,
        severity=assessment.severity or "medium",
        modality=claims[0].modality if kind != KIND_NEW and claims else assessment.modality,
        score=round(assessment.score, 4),
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


def new_alert(
    placement: Placement, tagged: TaggedArticle, assessment: Assessment, rungs: dict[str, int]
) -> tuple[Alert, str] | None:
    """(alert to raise now, what changed), or None when the article adds nothing new."""
    story = placement.story
    if not assessment.alerts or placement.repeat:
        return None
    if not story.alerts:
        return make_alert(story, tagged, assessment, KIND_NEW), ""
    rising = escalations(story, assessment.alerting, rungs)
    if not rising:
        return None
    change = change_of(rising)
    return make_alert(story, tagged, assessment, KIND_ESCALATION, change, claims=rising), change


def alert_to_resend(placement: Placement, tagged: TaggedArticle, assessment: Assessment) -> Alert | None:
    """The alert this same article raised before, for at-least-once delivery after a crash.

    The worker may have stored the story but died before the alert reached the outbox;
    sending it again is safe because sinks deliver each alert id once.
    """
    if not placement.repeat or not assessment.relevant:
        return None
    for known_id, raised in placement.story.alerts.items():
        if raised.get("article") != tagged.article.id:
            continue
        kind, change = raised.get("kind", KIND_NEW), raised.get("change", "")
        claims = assessment.alerting
        if kind == KIND_ESCALATION:
            kinds = set(change.split(";"))
            claims = [c for c in assessment.alerting if "|".join(claim_kind(c)) in kinds] or claims
        alert = make_alert(placement.story, tagged, assessment, kind, change, claims=claims)
        if alert.id == known_id:
            return alert
    return None
