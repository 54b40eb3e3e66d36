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
from monitor.nlp.marking import mark
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
        transfer = _lemmas(watchlist, cues.transfer_actions)
        stance = _lemmas(watchlist, cues.stance_actions) | {w.lower() for w in cues.stance_on_sanctions}
        self.lexicon: dict[str, frozenset[str]] = {
            "transfer": frozenset(transfer),
            "stance": frozenset(stance),
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
        triggers: Mapping[int, Mapping[int, str]] | None = None,
    ) -> tuple[list[Window], list[str]]:
        """(windows, lede actors) of an article.

        ``actors``: sentence → token index → actor; ``topics``: sentence → topics of its
        triggers; ``objects``: sentence → how many military objects it names, governed or not;
        ``triggers``: sentence → token index of each topic trigger → its topic.
        """
        triggers = triggers or {}
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
            cues = self._cues(sentence, actors.get(i, {}), objects.get(i, 0), triggers.get(i, {}))
            if not (topics.get(i) or near_topics or cues & {"stance", "transfer"}):
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
                    marked=mark(sentence, actors.get(i, {}), self.sides),
                )
            )
            if len(windows) >= MAX_WINDOWS:
                break
        return windows, lede

    def _cues(self, sentence: Span, actors: Mapping[int, str], objects: int, triggers: Mapping[int, str]) -> set[str]:
        found: set[str] = set()
        if _tight(actors, self.sides, triggers):
            found.add("tight")
        found |= _targets(sentence, actors, self.sides, triggers)
        sanctions = [sentence.doc[i] for i, topic in triggers.items() if topic == "sanctions"]
        for token in sentence:
            lemma = token.lemma_.lower()
            for cue, words in self.lexicon.items():
                if lemma in words or token.lower_ in words:
                    if cue == "transfer" and token.pos_ not in ("VERB", "NOUN"):
                        continue
                    if cue == "stance" and sanctions and not any(_linked(token, t) for t in sanctions):
                        continue
                    found.add(cue)
        if objects:
            found.add("military_object")
        named = set(actors.values())
        if named - self.sides:
            found.add("third_party")
        found |= _coordinated(sentence, actors, self.sides)
        return found


#: How far up the parse a stance word and a sanctions trigger may be apart to be linked.
STANCE_HOPS = 3


def _linked(stance: Token, trigger: Token) -> bool:
    """A stance word is about the sanctions its sentence names when one governs the other within
    a few arcs ("rejected sanctions", "refuses to join the sanctions", "the effect of sanctions",
    "sanctions relief", "sanctions it opposes") or both hang on one word. In "tit-for-tat
    sanctions and Russia's war, whose impact Beijing dismissed" the impact is the war's. (With no
    sanctions in the sentence the stance is read against the neighbours' sanctions instead.)"""
    return _within(stance, trigger) or _within(trigger, stance) or stance.head.i == trigger.head.i


def _within(token: Token, ancestor: Token) -> bool:
    node = token
    for _ in range(STANCE_HOPS):
        if node.head.i == node.i:
            return False
        node = node.head
        if node.i == ancestor.i:
            return True
    return False


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
        members = {party for t in group if (party := _party(t, actors))}
        return {"coordinated", "list"} if len(members) >= LIST_MIN_ACTORS else {"coordinated"}
    if _compared(sentence, actors, wanted):
        return {"coordinated"}
    return _listed(sentence, actors, wanted)


#: Prepositions that set one party beside another: "like China", "unlike Beijing", "than Moscow".
COMPARING = frozenset({"like", "unlike", "than"})


def _compared(sentence: Span, actors: Mapping[int, str], wanted: set[str]) -> bool:
    """One side is compared with the other, not linked to it: "Russia is not China", "unlike
    China, Russia has…", "more exposed than China"."""
    for token in sentence:
        if token.lemma_ == "be" and token.pos_ in ("AUX", "VERB"):
            subject = {actors.get(c.i) for c in token.children if c.dep_ == "nsubj"}
            attribute = {actors.get(c.i) for c in token.children if c.dep_ == "attr"}
            if wanted <= (subject | attribute) - {None} and subject & wanted and attribute & wanted:
                return True
        # "countries like China" names an example, not a comparison.
        if token.lower_ in COMPARING and token.dep_ == "prep" and token.head.pos_ not in ("NOUN", "PROPN"):
            compared = {actors.get(c.i) for c in token.children if c.dep_ == "pobj"} & wanted
            outside = {a for t in sentence if (a := actors.get(t.i)) in wanted and not token.is_ancestor(t)}
            if compared and (wanted - compared) <= outside:
                return True
    return False


#: Words that join the items of a written list of names.
LIST_JOINERS = frozenset({",", "and", "or", "&"})


def _listed(sentence: Span, actors: Mapping[int, str], wanted: set[str]) -> set[str]:
    """The same, when the parse reads a written list as an apposition ("China, Russia, and Iran
    back Assad": Russia an apposition of China): names joined by commas, "and", "or" or "&",
    each attached to an earlier one as an apposition or a conjunct. "The US sanctioned Russia,
    and China sent drones" is two clauses, not a list."""
    doc = sentence.doc
    run: dict[int, str] = {}  # the root token of each listed name -> the name
    joined = True
    i = sentence.start
    while i < sentence.end:
        token = doc[i]
        name = _party(token, actors)
        if name is None:
            if not (token.lower_ in LIST_JOINERS and run):
                run = {}
            joined = True
            i += 1
            continue
        end = i + 1
        while end < sentence.end and doc[end].ent_iob_ == "I":
            end += 1
        root = doc[i:end].root
        if not (joined and root.dep_ in ("appos", "conj") and root.head.i in run):
            run = {}
        run[root.i] = name
        joined = False
        if wanted <= set(run.values()):
            return {"coordinated", "list"} if len(set(run.values())) >= LIST_MIN_ACTORS else {"coordinated"}
        i = end
    return set()


def _coordination(token: Token) -> list[Token]:
    head = token
    while head.dep_ == "conj" and head.head is not head:
        head = head.head
    return [head, *head.conjuncts]


#: Tokens within which both sides and a trigger sit for a sentence to link them tightly.
TIGHT_SPAN = 25


def _tight(actors: Mapping[int, str], sides: frozenset[str], triggers: Iterable[int]) -> bool:
    """Some mention of every side and a topic trigger lie within ``TIGHT_SPAN`` tokens: the
    sentence is about their link, not a long sentence naming each in passing."""
    marks = sorted([(i, a) for i, a in actors.items() if a in sides] + [(i, "") for i in triggers])
    wanted = set(sides) | {""}
    for start, (first, _kind) in enumerate(marks):
        seen = set()
        for index, kind in marks[start:]:
            if index - first > TIGHT_SPAN:
                break
            seen.add(kind)
            if wanted <= seen:
                return True
    return False


def _lemmas(watchlist: Watchlist, action_ids: Iterable[str]) -> frozenset[str]:
    return frozenset(lemma.lower() for action_id in action_ids for lemma in watchlist.actions[action_id].lemmas)


#: Prepositions that name whom an act is aimed at, by the trigger's topic: aid goes "to", "for"
#: or "into" someone, sanctions fall "on" or "against" someone. Others name something else: "war
#: on Ukraine" names the war's victim, "drones used against Ukraine" the target of the weapon,
#: "sanctions over Ukraine" the reason.
TARGET_PREPOSITIONS = {
    "military_aid": frozenset({"to", "for", "into"}),
    "sanctions": frozenset({"on", "against"}),
}
ANY_TARGET = frozenset().union(*TARGET_PREPOSITIONS.values())


def _targets(sentence: Span, actors: Mapping[int, str], sides: frozenset[str], triggers: Mapping[int, str]) -> set[str]:
    """ "side_target" when a trigger is aimed at a side of the link ("sanctions on Russia",
    "weapons to Moscow", "providing Russia with military assistance"), "third_target" when only
    at someone else ("sanctions on North Korea", "military aid to Ukraine"): the sentence names
    the link's sides for another reason. ``triggers``: token index → the trigger's topic."""
    doc = sentence.doc
    aimed: set[str] = set()
    for index, topic in triggers.items():
        token = doc[index]
        preps = TARGET_PREPOSITIONS.get(topic, ANY_TARGET)
        noun = token.head if token.dep_ in ("compound", "amod") else token
        for head, own in _aimed_from(token, noun):
            for child in head.children:
                if child is own or child.i == noun.i:
                    continue
                # "sanctions on X", "weapons to X", and a verb's own object: "arming X".
                if (child.dep_ == "prep" and child.lower_ in preps) or (head.pos_ == "VERB" and child.dep_ in ("dobj", "dative")):
                    aimed.update(party for t in child.subtree if (party := _party(t, actors)))
    if aimed & sides:
        return {"side_target"}
    return {"third_target"} if aimed else set()


def _aimed_from(token: Token, noun: Token) -> list[tuple[Token, Token | None]]:
    """The words whose dependants can name whom a trigger is for, each with the child that leads
    back to the trigger (not itself a target): the trigger, the noun it modifies, and the verb
    that moves the noun ("send weapons to Moscow", "weapons were shipped to Russia", "providing
    Russia with military assistance")."""
    heads: list[tuple[Token, Token | None]] = [(token, None)]
    if noun is not token:
        heads.append((noun, token))
    if noun.dep_ in ("dobj", "nsubjpass") and noun.head.pos_ == "VERB":
        heads.append((noun.head, noun))
    elif noun.dep_ == "pobj" and noun.head.lower_ == "with" and noun.head.head.pos_ == "VERB":
        heads.append((noun.head.head, noun.head))
    return heads


def _party(token: Token, actors: Mapping[int, str]) -> str | None:
    """The party a token names: its actor, or the place itself when the watchlist does not know
    it ("Syria"); None for any other word."""
    if token.i in actors:
        return actors[token.i]
    return f"place:{token.lower_}" if token.ent_type_ in ("GPE", "NORP") else None
