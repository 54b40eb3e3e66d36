"""The spaCy pipeline newsmon runs, and the text it is given.

``en_core_web_sm`` (from its wheel in site-packages; nothing is ever downloaded) with a
sentence break at every line break and an entity ruler built from the watchlist's actors.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

import spacy
from spacy.language import Language
from spacy.pipeline import EntityRuler
from spacy.tokens import Doc

from monitor.models import Article
from monitor.text import squash
from monitor.watchlist import Watchlist

RULER_LABELS = {"alias": "GPE", "metonym": "GPE", "person": "PERSON", "demonym": "NORP"}
TITLE_END = tuple(".!?:;\"'”’)")


def build_nlp(model: str, watchlist: Watchlist) -> Language:
    """Load the spaCy pipeline (from site-packages, never downloaded) plus the actor ruler.

    The ruler runs after NER and does not overwrite it: where NER found a longer name
    ("Washington Post") that name wins, and the ruler adds what NER missed ("Kremlin").
    """
    nlp = spacy.load(model)
    nlp.add_pipe("newline_sentences", before="parser")
    ruler = cast(EntityRuler, nlp.add_pipe("entity_ruler", name="actor_ruler", after="ner", config={"overwrite_ents": False}))
    patterns: list[dict[str, Any]] = []
    for actor_id, actor in watchlist.actors.items():
        for phrase, kind in actor.surface_forms():
            patterns.append({"label": RULER_LABELS[kind], "pattern": phrase, "id": actor_id})
    ruler.add_patterns(patterns)
    return nlp


@Language.component("newline_sentences")
def newline_sentences(doc: Doc) -> Doc:
    """Start a sentence after every line break.

    Feeds and scraped pages put headlines, bylines and captions on lines of their own
    without final punctuation; the parser would glue them to the next sentence.
    """
    for token in doc[:-1]:
        if token.is_space and "\n" in token.text:
            doc[token.i + 1].is_sent_start = True
    return doc


#: Characters of a long article's opening that are always analysed: the lede says what it is about.
LEDE_CHARS = 2_000


def opening_lines(lines: Sequence[str], min_filled: int = 0) -> int:
    """How many of an article's first ``lines`` make its opening: as many as it takes to reach
    ``LEDE_CHARS`` characters, and at least ``min_filled`` non-empty ones (the lede's sentences,
    when each line starts a sentence)."""
    used = filled = 0
    for i, line in enumerate(lines):
        if used >= LEDE_CHARS and filled >= min_filled:
            return i
        used += len(line) + 1
        filled += bool(line.strip())
    return len(lines)


class Passages:
    """Which paragraphs of a long article are analysed.

    Live blogs and long reads run to 50,000 characters; the report that matters may be past any
    fixed cut, and a live blog names one side in every caption. Beyond its opening, a long
    article keeps, in order and up to the character budget, first the paragraphs where every side
    of a watched link is named within one paragraph either way, then those naming one side when
    the opening names the other. An article within the budget is analysed whole.
    """

    def __init__(self, watchlist: Watchlist):
        def pattern(actor: str) -> re.Pattern[str]:
            names = sorted((phrase for phrase, _kind in watchlist.actors[actor].surface_forms()), key=len, reverse=True)
            return re.compile(r"\b(?:" + "|".join(re.escape(name) for name in names) + r")\b")

        self._pairs = [(pattern(first), pattern(second)) for first, second in watchlist.watch_pairs]

    def select(self, body: str, budget: int) -> str:
        if len(body) <= budget:
            return body
        paragraphs = body.split("\n")
        opening = set(range(opening_lines(paragraphs)))
        used = sum(len(paragraphs[i]) + 1 for i in opening)
        lede = "\n".join(paragraphs[i] for i in sorted(opening))
        linked, beside = set(), set()
        for first, second in self._pairs:
            has = [(bool(first.search(p)), bool(second.search(p))) for p in paragraphs]
            for i in range(len(paragraphs)):
                near = has[max(0, i - 1) : i + 2]
                a, b = any(x for x, _ in near), any(y for _, y in near)
                if a and b:
                    linked.add(i)
                elif (has[i][0] and second.search(lede)) or (has[i][1] and first.search(lede)):
                    beside.add(i)
        chosen = set(opening)
        for tier in (linked, beside):
            for i in sorted(tier):
                if i not in chosen and used + len(paragraphs[i]) + 1 <= budget:
                    chosen.add(i)
                    used += len(paragraphs[i]) + 1
        return "\n".join(paragraphs[i] for i in sorted(chosen))


def compose_text(article: Article, max_chars: int, passages: Passages | None = None) -> str:
    """The text analysed: the title as its own sentence, then the body (for a long article, the
    passages that matter), at most ``max_chars``."""
    title = squash(article.title, lines=False)
    body = article.body.strip()
    if title and body.startswith(title):
        title = ""
    if title and not title.endswith(TITLE_END):
        title += "."
    if passages is not None:
        body = passages.select(body, max_chars - len(title) - 2)
    text = f"{title}\n\n{body}" if title else body
    return text[:max_chars]
