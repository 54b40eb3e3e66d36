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

Of an article it lets through, ``FirstPass.focus`` keeps for the statistical pipeline only the
lines that can hold evidence (about half the tokens of the candidates in the corpus), by the
same matcher and with the same one-way error: a line it leaves out names no side of a watched
link, or one side with the other side neither in that line nor in the opening.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from monitor.nlp.pipeline import LEDE_CHARS, opening_lines
from monitor.watchlist import Watchlist

#: Characters of an article's opening that ``FirstPass.focus`` always keeps: the title and the
#: lede, whose actors every evidence window may draw on (the same cut as ``Passages``).
OPENING_CHARS = LEDE_CHARS

#: The matcher's label for names that contain an actor's name but are not the actor.
NOT_AN_ACTOR = "not-an-actor"


@dataclass(frozen=True, eq=False)
class Reading:
    """What the first pass found in a tokenized text."""

    doc: Doc
    #: Does the text name both sides of a watched link (must the full pipeline see it)?
    passes: bool
    #: Every name, as (actor, character offset), even one inside "China Daily".
    named: list[tuple[str, int]] = field(repr=False)
    #: The names that are actors: not inside a name that is not an actor ("Washington Post").
    actors_at: list[tuple[str, int]] = field(repr=False)

    @property
    def actors(self) -> set[str]:
        return {label for label, _at in self.actors_at}


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
        self.lede_sentences = watchlist.windows.lede_sentences

    def read(self, text: str) -> Reading:
        """What the first pass finds in ``text``: whether the full pipeline must see it, and
        the names it holds.

        Whether it passes counts every name, even inside "China Daily", because NER may miss
        the outlet and the full pipeline then finds the state; the actors reported for a
        stopped article leave out names inside a name that is not an actor ("Washington Post")."""
        return self.read_doc(self.tokenizer(text))

    def read_doc(self, doc: Doc) -> Reading:
        """``read`` of a text the caller tokenized: the tagger hands the same Doc on to
        ``nlp.pipe`` and to ``focus``, so an article that passes is tokenized and matched once."""
        matches = [(self.vocab.strings[m], start, end) for m, start, end in self.matcher(doc)]
        outlets = [(s, e) for label, s, e in matches if label == NOT_AN_ACTOR]
        named = [(label, doc[s].idx) for label, s, _e in matches if label != NOT_AN_ACTOR]
        actors = [
            (label, doc[s].idx)
            for label, s, e in matches
            if label != NOT_AN_ACTOR and not any(os <= s and e <= oe for os, oe in outlets)
        ]
        labels = {label for label, _at in named}
        return Reading(doc, any(pair <= labels for pair in self.pairs), named, actors)

    def focus(self, reading: Reading) -> tuple[str, set[str]]:
        """The text of the lines of the read doc that can hold evidence: the opening
        (``OPENING_CHARS`` and the lede's sentences), every line that names a side
        of a watched link together with the other side or while the opening names the other,
        and the nearest non-empty line either side of each such line. The whole text when
        nothing can be left out.

        An evidence window is a sentence that names a side, read with its neighbours in its
        own line (paragraph) and with the actors of the lede, so a line that names no side,
        or one side with the other neither beside it nor in the lede, can support no
        relevance. The neighbouring lines are kept so that each kept line's tokens see the
        same context as in the whole text (tok2vec looks a few tokens either way).

        One way the two could still differ: an article with more than ``MAX_WINDOWS`` windows
        keeps its first ones, and on the whole text windows of lines left out here (naming one
        side only) count towards that cap. No corpus article differs.

        Also returns the actors named only in the lines left out (as ``read`` counts them), so
        the article's actors, and with them its route and story book, stay those of the whole
        text.
        """
        text = reading.doc.text
        lines = text.split("\n")
        if len(lines) < 3:
            return text, set()
        starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
        named: list[set[str]] = [set() for _ in lines]
        actors: list[set[str]] = [set() for _ in lines]
        for found, names in ((named, reading.named), (actors, reading.actors_at)):
            for label, at in names:
                found[bisect.bisect_right(starts, at) - 1].add(label)
        # The opening holds at least as many non-empty lines as the lede has sentences (every
        # line starts a sentence), so the lede's sentences are all in it.
        opening = set(range(opening_lines(lines, self.lede_sentences)))
        in_opening = set().union(*(named[i] for i in opening))
        kept = set(opening)
        for first, second in self.pairs:
            for i, here in enumerate(named):
                if (first in here and (second in here or second in in_opening)) or (second in here and first in in_opening):
                    kept.add(i)
        solid = [i for i, line in enumerate(lines) if line.strip()]
        for i in sorted(kept - opening):
            k = bisect.bisect_left(solid, i)
            for j in (k - 1, k + 1):
                if 0 <= j < len(solid):
                    kept.add(solid[j])
        # Empty lines between two kept lines stay, so kept runs keep their own line breaks.
        for a, b in zip(solid, solid[1:]):
            if a in kept and b in kept:
                kept.update(range(a + 1, b))
        in_kept = set().union(*(named[i] for i in kept))
        if len(kept) == len(lines) or not any(pair <= in_kept for pair in self.pairs):
            # No line can hold evidence: the article is not relevant, but its route (and so the
            # story it joins) comes from the whole text, as without the focus.
            return text, set()
        left_out = set().union(*(actors[i] for i in range(len(lines)) if i not in kept))
        return "\n".join(lines[i] for i in sorted(kept)), left_out


def explain(watchlist: Watchlist, focus: bool = True) -> list[str]:
    """What the first pass lets through, for ``newsmon check-config``."""
    lines = []
    for first, second in watchlist.watch_pairs:
        counts = [len(watchlist.actors[a].surface_forms()) for a in (first, second)]
        lines.append(
            f"first pass: an article goes through spaCy when it names both {first} ({counts[0]} names) "
            f"and {second} ({counts[1]} names), in any case; every other article is decided at once as not relevant"
        )
    if focus:
        lines.append(
            f"focus: of an article that goes through, spaCy parses the first {OPENING_CHARS:,} characters and the lines "
            "naming one side with the other in the same line or in those characters, each with the line before and after"
        )
    return lines
