"""Claims of one invented sentence, as the tests of claim extraction read them."""

from __future__ import annotations

from monitor.models import Article


def claims_of(tagger, text: str) -> list[tuple[str, str, str, str]]:
    """(subject, action, object, modality) of each claim the tagger extracts from ``text``."""
    tagged = tagger.tag([Article(id="c", text=text)])[0]
    return [(c.subject, c.action, c.object, c.modality) for c in tagged.claims]
