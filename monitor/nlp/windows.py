"""Evidence windows: what relevance reads when no sentence makes a complete claim.

Real news rarely puts subject, act and object of a development in one tidy sentence: Beijing in
one sentence, Moscow and the sanctions in the next; one side named only in the headline; "arming
Russia" with no object; a stance ("will not join the sanctions") rather than an act. So for every
sentence that names a side of a watched link the tagger keeps a *window*: the sentence, its
neighbours in the same paragraph, the actors and topic triggers of each, and the cue words the
watchlist lists under ``windows:`` (stance on sanctions, military verbs, energy, exercises, nuclear
weapons) plus the grammar the parse shows (a transfer word, sides named in a coordination or a
list of countries). ``monitor.relevance.score`` turns them into a relevance score.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from spacy.tokens import Span, Token

from monitor.models import Window
from monitor.text import squash
from monitor.watchlist import Watchlist

#: A very long article keeps its first windows (the lede carries the news).
MAX_WINDOWS = 40
#: Countries in one coordination from which a sentence is a list ("China, Russia, Iran and North
#: Korea"): a list of adversaries is not a link between two of them.
LIST_MIN_ACTORS = 3


class WindowReader:
    """Builds the windows of a parsed article; prepared once from the watchlist."""

    def __init__(self, watchlist: Watchlist):
        cues = watchlist.windows
        self.lede_sentences = cues.lede_sentences
        self.sides = frozenset(actor for pair in watchlist.watch_pairs for actor in pair)
        transfer: set[str] = set()
        for action_id in cues.transfer_actions:
            transfer.update(lemma.lower() for lemma in watchlist.actions[action_id].lemmas)
        self.lexicon: dict[str, frozenset[str]] = {
            "military_verb": frozenset(w.lower() for w in cues.military_verbs),
            "transfer": frozenset(transfer),
            "stance": frozenset(w.lower() for w in cues.stance_on_sanctions),
            "energy": frozenset(w.lower() for w in cues.energy_terms),
            "exercise": frozenset(w.lower() for w in cues.exercise_terms),
            "nuclear": frozenset(w.lower() for w in cues.nuclear_terms),
        }

    def read(
        self,
        sentences: list[Span],
        actors: Mapping[int, Mapping[int, str]],
        topics: Mapping[int, set[str]],
        objects: Mapping[int, int],
    ) -> tuple[list[Window], list[str]]:
        """(windows, lede actors) of an article.

        ``actors``: sentence → token index → actor; ``topics``: sentence → topics of its
        triggers; ``objects``: sentence → how many military objects it names, governed or not.
        """
        lede = sorted({a for i in range(min(self.lede_sentences, len(sentences))) for a in actors.get(i, {}).values()})
        paragraph = _paragraphs(sentences)
        windows: list[Window] = []
        for i, sentence in enumerate(sentences):
            named = set(actors.get(i, {}).values())
            if not named & self.sides:
                continue
            neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(sentences) and paragraph[j] == paragraph[i]]
            near = {a for j in neighbours for a in actors.get(j, {}).values()} - named
            near_topics = {t for j in neighbours for t in topics.get(j, set())} - topics.get(i, set())
            cues = self._cues(sentence, actors.get(i, {}), objects.get(i, 0))
            if not (topics.get(i) or near_topics or cues & {"military_verb", "stance", "transfer"}):
                continue
            windows.append(
                Window(
                    index=i,
                    sentence=squash(sentence.text, lines=False),
                    around=" ".join(squash(sentences[j].text, lines=False) for j in neighbours),
                    actors=sorted(named),
                    near=sorted(near),
                    topics=sorted(topics.get(i, set())),
                    near_topics=sorted(near_topics),
                    cues=sorted(cues),
                )
            )
            if len(windows) >= MAX_WINDOWS:
                break
        return windows, lede

    def _cues(self, sentence: Span, actors: Mapping[int, str], objects: int) -> set[str]:
        found: set[str] = set()
        for token in sentence:
            lemma = token.lemma_.lower()
            for cue, words in self.lexicon.items():
                if lemma in words or token.lower_ in words:
                    if cue in ("military_verb", "transfer") and token.pos_ not in ("VERB", "NOUN"):
                        continue
                    found.add(cue)
        if objects:
            found.add("military_object")
        named = set(actors.values())
        if named - self.sides:
            found.add("third_party")
        found |= _coordinated(sentence, actors, self.sides)
        return found


def _paragraphs(sentences: list[Span]) -> list[int]:
    """Paragraph number of each sentence: a new one after a line break."""
    numbers, current = [], 0
    for i, sentence in enumerate(sentences):
        if i and _starts_line(sentence):
            current += 1
        numbers.append(current)
    return numbers


def _starts_line(sentence: Span) -> bool:
    start = sentence.start
    if start == 0:
        return True
    previous = sentence.doc[start - 1]
    return "\n" in previous.text or "\n" in previous.whitespace_


def _coordinated(sentence: Span, actors: Mapping[int, str], sides: Iterable[str]) -> set[str]:
    """ "coordinated" when both sides are items of one coordination ("Russia and China have
    faced sanctions": the same thing said of both, not a link between them), and "list" when
    that coordination has at least three actors or places ("China, Russia, Iran and North Korea")."""
    wanted = set(sides)
    for token in sentence:
        if actors.get(token.i) not in wanted:
            continue
        group = _coordination(token)
        if not wanted <= {actors.get(t.i) for t in group}:
            continue
        members = {actors.get(t.i) or t.lower_ for t in group if t.i in actors or t.ent_type_ in ("GPE", "NORP")}
        return {"coordinated", "list"} if len(members) >= LIST_MIN_ACTORS else {"coordinated"}
    return set()


def _coordination(token: Token) -> list[Token]:
    head = token
    while head.dep_ == "conj" and head.head is not head:
        head = head.head
    return [head, *head.conjuncts]
