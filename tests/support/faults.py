"""Faults put into real components, to check that one failing article never stops a run."""

from __future__ import annotations

from monitor.nlp.tag import FindClaims

LADDER_BROKE = "ladder broke"


class LadderThatBreaks(dict):
    """Escalation-ladder rungs whose every lookup fails. Novelty reads the ladder after the
    article was placed in its story, so ``decide`` fails at the worst moment for the book."""

    def get(self, key, default=None):
        raise RuntimeError(LADDER_BROKE)

    def __getitem__(self, key):
        raise RuntimeError(LADDER_BROKE)


def claims_that_break_on(marker: str, extractor: FindClaims) -> FindClaims:
    """The real claim extractor, handed a broken actor map on sentences containing ``marker``:
    the failure is raised inside monitor.nlp.claims, as a bug of its own would be."""

    def find(sentence, actors, evidence):
        return extractor(sentence, None if marker in sentence.text else actors, evidence)  # type: ignore[arg-type]

    return find
