"""Detection: is an article relevant to the watched links, and on what evidence?

First version, measured in the README: an article is relevant when one sentence names
both actors of a watched pair and carries a topic trigger. The tag stage already found
those sentences; this stage only decides, so the rule can change without touching NLP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.models import Evidence, TaggedArticle

RULE_PAIR_SENTENCE = "pair-sentence-trigger"


@dataclass(frozen=True)
class Assessment:
    relevant: bool
    topics: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    rule: str = ""


def assess(tagged: TaggedArticle) -> Assessment:
    """Relevant when a sentence links a watched pair with a topic trigger."""
    evidence = _unique_sentences(tagged.evidence)
    if not evidence:
        return Assessment(relevant=False)
    topics = sorted({topic for item in evidence for topic in item.topics})
    return Assessment(relevant=True, topics=topics, evidence=evidence, rule=RULE_PAIR_SENTENCE)


def _unique_sentences(evidence: list[Evidence]) -> list[Evidence]:
    # A lede repeated as the first paragraph is one piece of evidence, not two.
    seen: set[str] = set()
    unique = []
    for item in evidence:
        if item.sentence not in seen:
            seen.add(item.sentence)
            unique.append(item)
    return unique
