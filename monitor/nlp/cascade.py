"""The first pass: which articles can be relevant at all, without the statistical pipeline.

An article that does not name both sides of a watched link (by any of the watchlist's names for
an actor) cannot match any rule or make any evidence window, so it needs neither tok2vec, the
tagger, the parser, NER nor the lemmatizer. The first pass runs only the tokenizer and a
case-insensitive phrase matcher over the watchlist's names, on exactly the text the full pipeline
would get. It is built from the watchlist, never from a second list, and it errs one way only:
every article in which the full pipeline could find both sides is passed on (lower case, NER
spans and possessives all still match a name here), so switching it off changes no decision.
Articles it stops get their decision straight away: not relevant, score 0, no story, the actors
the matcher saw.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.matcher import PhraseMatcher

from monitor.watchlist import Watchlist


class FirstPass:
    """The tokenizer and the watchlist's names: does a text name both sides of a watched link?"""

    def __init__(self, nlp: Language, watchlist: Watchlist):
        self.tokenizer = nlp.tokenizer
        self.vocab = nlp.vocab
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for actor_id, actor in watchlist.actors.items():
            self.matcher.add(actor_id, [nlp.make_doc(phrase) for phrase, _kind in actor.surface_forms()])
        self.pairs = [frozenset(pair) for pair in watchlist.watch_pairs]

    def actors(self, text: str) -> set[str]:
        """The actors the text names, by the watchlist's names (case-insensitive)."""
        doc = self.tokenizer(text)
        return {self.vocab.strings[match_id] for match_id, _start, _end in self.matcher(doc)}

    def passes(self, actors: set[str]) -> bool:
        """Whether the full pipeline must see the article: it names both sides of a watched pair."""
        return any(pair <= actors for pair in self.pairs)


def explain(watchlist: Watchlist) -> list[str]:
    """What the first pass lets through, for ``newsmon check-config``."""
    lines = []
    for first, second in watchlist.watch_pairs:
        counts = [len(watchlist.actors[a].surface_forms()) for a in (first, second)]
        lines.append(
            f"first pass: an article goes through spaCy when it names both {first} ({counts[0]} names) "
            f"and {second} ({counts[1]} names), in any case; every other article is decided at once as not relevant"
        )
    return lines
