"""The spaCy pipeline newsmon runs, and the text it is given.

``en_core_web_sm`` (from its wheel in site-packages; nothing is ever downloaded) with a
sentence break at every line break and an entity ruler built from the watchlist's actors.
"""

from __future__ import annotations

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


def compose_text(article: Article, max_chars: int) -> str:
    """The text analysed: the title as its own sentence, then the body, cut to ``max_chars``."""
    title = squash(article.title, lines=False)
    body = article.body.strip()
    if title and body.startswith(title):
        title = ""
    if title and not title.endswith(TITLE_END):
        title += "."
    text = f"{title}\n\n{body}" if title else body
    return text[:max_chars]
