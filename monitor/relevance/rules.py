"""Detection: is an article relevant to the watched links, and which claims make it so?

The tag stage found evidence sentences (a watched pair and a topic trigger in one
sentence) and the claims in them. Here the watchlist's rules decide: a claim matches a rule
when its actors fill the rule's pair (``*`` any actor, then the claim must be *about* the
rule's other actor), and its topic, action and modality are among the rule's. An article is
relevant when one of its claims matches any rule; a claim alerts when its rule says so.
Pure functions, so the rules change without touching NLP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.models import Claim, Evidence, TaggedArticle
from monitor.watchlist import ANY_ACTOR, Rule

SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2}


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


def assess(tagged: TaggedArticle, rules: list[Rule]) -> Assessment:
    """Relevant when a claim of the article matches a watchlist rule."""
    matched: list[tuple[Claim, Rule]] = []
    for claim in tagged.claims:
        rule = rule_for(claim, rules)
        if rule is not None:
            matched.append((claim, rule))
    if not matched:
        return Assessment(relevant=False)
    indexes = {claim.index for claim, _rule in matched}
    evidence = _unique_sentences([item for item in tagged.evidence if item.index in indexes])
    alerting = [(claim, rule) for claim, rule in matched if rule.alert]
    deciding = max(alerting, key=lambda pair: SEVERITY_ORDER[pair[1].severity])[1] if alerting else matched[0][1]
    return Assessment(
        relevant=True,
        topics=sorted({claim.topic for claim, _rule in matched}),
        evidence=evidence,
        rule=deciding.name,
        severity=deciding.severity,
        claims=[claim for claim, _rule in matched],
        alerting=[claim for claim, _rule in alerting],
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
