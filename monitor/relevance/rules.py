"""Relevance: does an article report on a watched link and topic, how surely, and which rule
decides what its alert says?

The tag stage kept evidence windows and the claims of its evidence sentences. A claim matches a
watchlist rule when its actors fill the rule's pair (``*`` any actor, then the claim must be
*about* the rule's other actor) and its topic, action and modality are among the rule's. The
article's relevance score (``monitor.relevance.score``) reads the windows and those matches; the
article is relevant when the score reaches the threshold. The most severe alerting rule among its
matched claims decides the alert's rule, severity and modality; an article relevant on its windows
alone alerts as ``windows`` at the lowest severity, reported. Pure functions, so the rules change
without touching NLP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.models import SEVERITIES, Claim, Evidence, TaggedArticle
from monitor.relevance.score import Scorer, article_features
from monitor.watchlist import ANY_ACTOR, Rule

#: Modalities that state an act (or report it); the others keep an article relevant but alert low.
FIRM_OR_REPORTED = frozenset({"asserted", "attributed", "hedged"})
#: The rule name and modality of an alert raised on evidence windows without a matching claim.
WINDOWS_RULE = "windows"
WINDOWS_MODALITY = "hedged"


@dataclass(frozen=True)
class Assessment:
    relevant: bool
    topics: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    #: Name of the rule that decided (the most severe alerting one, else the first matched).
    rule: str = ""
    severity: str = ""
    #: Claims that match a rule (relevant), and those whose rule alerts.
    claims: list[Claim] = field(default_factory=list)
    alerting: list[Claim] = field(default_factory=list)
    #: The relevance score in [0, 1] and the feature values behind it.
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    #: Modality of the deciding claim ("hedged" when windows alone decided).
    modality: str = "asserted"
    #: Whether a new story of this article raises an alert (a rule may say ``alert: false``).
    alerts: bool = False


def rule_for(claim: Claim, rules: list[Rule]) -> Rule | None:
    """The first rule the claim matches, or None."""
    for rule in rules:
        if claim.topic not in rule.topics or claim.modality not in rule.modalities:
            continue
        if rule.actions and claim.action not in rule.actions:
            continue
        first, second = rule.actors
        if ANY_ACTOR in (first, second):
            named = second if first == ANY_ACTOR else first
            if named not in (claim.subject, claim.object) or claim.about != rule.about:
                continue
        elif {claim.subject, claim.object} != {first, second}:
            continue
        return rule
    return None


@dataclass(frozen=True)
class Judge:
    """What ``assess`` needs besides the article, prepared once from the watchlist and settings."""

    rules: list[Rule]
    scorer: Scorer
    threshold: float
    sides: frozenset[str]
    lede_sentences: int = 4


def assess(tagged: TaggedArticle, judge: Judge) -> Assessment:
    """Score the article's evidence; relevant at or above the threshold."""
    if not tagged.route:
        # It names no watched pair: no rule and no window can make it relevant.
        return Assessment(relevant=False, score=0.0)
    matched: list[tuple[Claim, Rule]] = []
    for claim in tagged.claims:
        rule = rule_for(claim, judge.rules)
        if rule is not None:
            matched.append((claim, rule))
    firm = [claim for claim, _rule in matched if claim.modality in FIRM_OR_REPORTED]
    soft = [claim for claim, _rule in matched if claim.modality not in FIRM_OR_REPORTED]
    values, supports = article_features(tagged, judge.sides, firm, soft, judge.lede_sentences)
    score = judge.scorer.score(values)
    if score < judge.threshold:
        return Assessment(relevant=False, score=score, features=values)
    indexes = {claim.index for claim, _rule in matched}
    evidence = [item for item in tagged.evidence if item.index in indexes]
    evidence += [
        Evidence(
            sentence=s.window.sentence,
            index=s.window.index,
            actors=s.window.actors,
            topics=sorted(s.topics),
            marked=s.window.marked,
        )
        for s in supports[:3]
        if s.window.index not in indexes
    ]
    topics = {claim.topic for claim, _rule in matched} | {t for s in supports for t in s.topics}
    alerting = [(claim, rule) for claim, rule in matched if rule.alert]
    if alerting:
        claim, deciding = max(alerting, key=lambda pair: (SEVERITIES.index(pair[1].severity), pair[0].modality == "asserted"))
        rule_name, severity, modality, alerts = deciding.name, deciding.severity, claim.modality, True
    elif matched:
        claim, deciding = matched[0]
        rule_name, severity, modality, alerts = deciding.name, deciding.severity, claim.modality, False
    else:
        rule_name, severity, modality, alerts = WINDOWS_RULE, SEVERITIES[0], WINDOWS_MODALITY, True
    return Assessment(
        relevant=True,
        topics=sorted(topics),
        evidence=_unique_sentences(sorted(evidence, key=lambda item: item.index)),
        rule=rule_name,
        severity=severity,
        claims=[claim for claim, _rule in matched],
        alerting=[claim for claim, _rule in alerting],
        score=score,
        features=values,
        modality=modality,
        alerts=alerts,
    )


def _unique_sentences(evidence: list[Evidence]) -> list[Evidence]:
    # A lede repeated as the first paragraph is one piece of evidence, not two.
    seen: set[str] = set()
    unique = []
    for item in evidence:
        if item.sentence not in seen:
            seen.add(item.sentence)
            unique.append(item)
    return unique
