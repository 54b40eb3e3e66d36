"""Objects of claims: whom an act is aimed at, read from the dependency parse.

``monitor.nlp.claims`` finds an act and its subject; this says at whom it is directed: the
verb's object or a to/for/on phrase, a sanctions target (never their imposer), whoever faces
sanctions, the addressee a request names only through the verb that answers it, and the act's
own clause before the rest of the sentence.
"""

from __future__ import annotations

from collections.abc import Callable

from spacy.tokens import Token

from monitor.nlp import grammar

#: Prepositions that introduce the party an act is directed at.
OBJECT_PREPOSITIONS = frozenset({"to", "for", "from", "on", "against", "with", "toward", "towards"})
#: Verbs whose subject is at the receiving end of the act they take as object ("face sanctions").
FACING = frozenset({"face", "risk", "incur"})
#: Verbs that answer a request ("agreed to a Russian request", "turned down Moscow's plea").
ANSWERS = frozenset(
    "agree accede consent accept grant reject refuse decline rebuff turn weigh consider answer heed respond".split()
)


class ObjectFinder:
    """Prepared once per extractor: ``action_of`` names the act a token expresses."""

    def __init__(
        self,
        action_of: Callable[[Token], str | None],
        request_action: str,
        content_actions: frozenset[str],
        pair_partners: dict[str, set[str]],
    ):
        self.action_of = action_of
        self._request = request_action
        self._content_actions = content_actions
        self._pair_partners = pair_partners

    def of(self, token: Token, actors: dict[int, str], exclude: set[str]) -> list[str]:
        """The actor the act is directed at: object, to/for/from/on phrase, then the rest."""
        candidates: list[Token] = []
        preps = list(grammar.preps(token))
        if self.light_verb_object(token):
            # "Russia made a request to China": the parse hangs the noun's phrases on the verb.
            preps += [p for p in token.head.children if p.dep_ in ("prep", "dative") and p.pos_ == "ADP"]
        # "sanctions against Russia", "sanctions on Chinese banks": the target comes first,
        # before whoever's sanctions they are ("the new US sanctions").
        for prep in preps:
            if prep.lower_ in ("on", "against"):
                candidates.extend(c for c in prep.children if c.dep_ == "pobj")
        if token.dep_ == "dobj" and token.head.lemma_.lower() in FACING:
            # "Chinese companies could face US sanctions": whoever faces them is their target.
            candidates.extend(c for c in token.head.children if c.dep_ in grammar.SUBJECT_DEPS)
        for child in token.children:
            if child.dep_ in ("dobj", "dative", "attr", "oprd"):
                candidates.append(child)
        # What a request is "for" is the thing asked, not whom it asks ("Russia's demand for US
        # technology" asks nothing of the US).
        asked = [p for p in preps if p.lower_ == "for"] if self.action_of(token) == self._request else []
        # A "for" phrase that names an act is the reason, not a party ("US sanctions for
        # Russian weapons purchases" are not on Russia; "weapons for Russia" go to Russia).
        asked += [p for p in preps if p.lower_ == "for" and any(self.action_of(o) for o in p.children if o.dep_ == "pobj")]
        for prep in preps:
            if prep.lower_ in OBJECT_PREPOSITIONS and prep.lower_ not in ("on", "against") and prep not in asked:
                candidates.extend(c for c in prep.children if c.dep_ == "pobj")
        if token.dep_ in ("nmod", "compound") and token.head.pos_ in ("NOUN", "PROPN"):
            candidates.append(token.head)  # headline "US sanctions Chinese firms"
        for candidate in candidates:
            found = [a for a in grammar.np_actors(candidate, actors) if a not in exclude]
            if found:
                return found[:1]
        # The act's content: "asked China to send weapons" found China above; "warned that
        # the US would sanction firms helping Russia" — first actor below, nearest first, in
        # the act's own clause before the rest.
        content = [t for c in token.children if c.dep_ in ("xcomp", "ccomp") for t in c.subtree]
        asked_for = {t.i for p in asked for t in p.subtree}
        rest = [t for t in token.subtree if t.i not in asked_for]
        below = grammar.named_below(content, token, actors, exclude) or grammar.named_below(rest, token, actors, exclude)
        return [actors[below[0].i]] if below else []

    def sanctions_target(self, token: Token, actors: dict[int, str], subjects: list[str]) -> list[str]:
        """Whose sanctions an evasion or a stance is about: their target, never their imposer —
        "blunt the effects of the US and European measures" names who imposed them; with no
        target named, the subject's watched partner when the sentence names it (China blunting
        sanctions is Russia's)."""
        imposers = {
            actors[n.i]
            for noun in token.children
            if noun.dep_ in ("dobj", "nsubjpass")
            for t in grammar.outside_targets(noun)
            if t.pos_ in ("NOUN", "PROPN")
            for m in t.children
            if m.dep_ in ("compound", "amod", "poss", "nmod")
            for n in (m, *m.conjuncts)
            if n.i in actors
        }
        return self.of(token, actors, set(subjects) | imposers) or self.partner_named(subjects, actors)

    def light_verb_object(self, token: Token) -> bool:
        """A request, promise, warning or refusal named as the object of a verb that only carries
        it ("made a request", "issued a warning", "gave a pledge")."""
        return token.dep_ == "dobj" and token.pos_ == "NOUN" and self.action_of(token) in self._content_actions

    def answerer(self, token: Token, action_id: str, actors: dict[int, str], subjects: list[str]) -> list[str]:
        """Whom a request names no addressee for, when a verb answers it: in "Beijing agreed to
        a Russian request for supplies" the request was made to Beijing."""
        if action_id != self._request or token.pos_ != "NOUN":
            return []
        verb = token.head.head if token.dep_ == "pobj" else token.head
        if token.dep_ not in ("pobj", "dobj") or verb.lemma_.lower() not in ANSWERS:
            return []
        return [
            a for c in verb.children if c.dep_ in grammar.SUBJECT_DEPS for a in grammar.np_actors(c, actors) if a not in subjects
        ][:1]

    def partner_named(self, subjects: list[str], actors: dict[int, str]) -> list[str]:
        """The subjects' watched partner, when the sentence names it."""
        named = set(actors.values())
        return [p for s in subjects for p in sorted(self._pair_partners.get(s, ())) if p in named][:1]
