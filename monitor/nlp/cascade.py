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
from spacy.tokens import Doc

from monitor.watchlist import Watchlist

#: The matcher's label for names that contain an actor's name but are not the actor.
NOT_AN_ACTOR = "not-an-actor"


class FirstPass:
    """The tokenizer and the watchlist's names: does a text name both sides of a watched link?"""

    def __init__(self, nlp: Language, watchlist: Watchlist):
        self.tokenizer = nlp.tokenizer
        self.vocab = nlp.vocab
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        for actor_id, actor in watchlist.actors.items():
            self.matcher.add(actor_id, [nlp.make_doc(phrase) for phrase, _kind in actor.surface_forms()])
        if watchlist.not_actors:
            self.matcher.add(NOT_AN_ACTOR, [nlp.make_doc(phrase) for phrase in watchlist.not_actors])
        self.pairs = [frozenset(pair) for pair in watchlist.watch_pairs]

    def read(self, text: str) -> tuple[bool, set[str]]:
        """(must the full pipeline see it, the actors it names).

        Whether it passes counts every name, even inside "China Daily", because NER may miss
        the outlet and the full pipeline then finds the state; the actors reported for a
        stopped article leave out names inside a name that is not an actor ("Washington Post")."""
        return self.read_doc(self.tokenizer(text))

    def read_doc(self, doc: Doc) -> tuple[bool, set[str]]:
        """``read`` of a text the caller tokenized: the tagger hands the same Doc on to
        ``nlp.pipe``, so an article that passes is tokenized once, not twice."""
        matches = [(self.vocab.strings[m], start, end) for m, start, end in self.matcher(doc)]
        named = {label for label, _s, _e in matches if label != NOT_AN_ACTOR}
        outlets = [(s, e) for label, s, e in matches if label == NOT_AN_ACTOR]
        actors = {
            label for label, s, e in matches if label != NOT_AN_ACTOR and not any(os <= s and e <= oe for os, oe in outlets)
        }
        return any(pair <= named for pair in self.pairs), actors


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
