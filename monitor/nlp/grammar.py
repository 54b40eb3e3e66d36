"""Grammar helpers for claim extraction: noun phrases, clauses, controllers and speakers on
spaCy's dependency parse (``monitor.nlp.claims`` asks them who did what to whom)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from spacy.tokens import Span, Token

from monitor.models import Evidence

#: Dependencies that name a clause's subject.
SUBJECT_DEPS = ("nsubj", "csubj", "expl")
#: Dependencies that stay inside a noun phrase when looking for the actor it names.
NP_MODIFIERS = ("compound", "amod", "poss", "appos", "npadvmod", "det")
NP_PREPOSITIONS = frozenset({"of", "in", "from", "at", "including"})
CLAUSE_DEPS = frozenset({"xcomp", "ccomp", "advcl", "pcomp", "acl", "relcl", "conj", "parataxis"})


#: Dependencies beside the clause links through which a clause's act reaches the one above it.
CHAIN_DEPS = frozenset({"prep", "pobj", "dobj", "nsubj", "nsubjpass", "advmod", "acomp"})


def clause_ancestors(token: Token) -> list[Token]:
    """Heads above ``token`` reached through clause links (not through noun phrases)."""
    chain = []
    node, came_by = token, ""
    for _ in range(8):
        head = node.head
        if head is node:
            break
        # A noun's clause ("there is no indication that China sent…") is under the verb of
        # the noun; a noun alone is not ("the issue is not exports but imports of weapons").
        through_noun = node.dep_ == "attr" and came_by == "acl"
        if node.dep_ in CLAUSE_DEPS or node.dep_ in CHAIN_DEPS or through_noun:
            chain.append(head)
            node, came_by = head, node.dep_
            continue
        break
    return chain


def preps(token: Token) -> Iterable[Token]:
    for child in token.children:
        if child.dep_ in ("prep", "dative", "agent") and child.pos_ == "ADP":
            yield child
        elif child.dep_ in ("dobj",):
            # "imposed sanctions on Chinese firms": the phrase may hang on the object.
            yield from (c for c in child.children if c.dep_ == "prep")


def prep_objects(token: Token) -> Iterable[Token]:
    for prep in preps(token):
        yield from (c for c in prep.children if c.dep_ == "pobj")


def np_actors(token: Token, actors: dict[int, str], depth: int = 3) -> list[str]:
    """Actors a noun phrase names: itself, its modifiers, then of/in/from phrases and conjuncts."""
    found: list[str] = []

    def visit(node: Token, level: int) -> None:
        if node.i in actors and actors[node.i] not in found:
            found.append(actors[node.i])
        if level == 0:
            return
        for child in node.children:
            if child.dep_ in NP_MODIFIERS or (child.dep_ == "nmod" and child.i in actors):
                visit(child, level - 1)
        for child in node.children:
            if child.dep_ == "prep" and child.lower_ in NP_PREPOSITIONS:
                for pobj in child.children:
                    if pobj.dep_ == "pobj":
                        visit(pobj, level - 1)
            elif child.dep_ == "conj":
                visit(child, level)

    visit(token, depth)
    return found


SIDE_MARKS = frozenset({"while", "whereas", "although", "though", "as", "when", "after", "before", "since", "meanwhile"})


def pruned(token: Token, skip: Callable[[Token], bool]) -> Iterable[Token]:
    """``token`` and its subtree, without the subtrees of the descendants ``skip`` is true of."""
    yield token
    for child in token.children:
        if not skip(child):
            yield from pruned(child, skip)


def own_clause(token: Token) -> Iterable[Token]:
    """``token``'s subtree without side clauses: a coordinated clause with its own subject
    ("…, and China criticised it") or a contrasting or temporal one ("while China bought…").
    Reasons, conditions, content and relative clauses stay: they say what the act is about."""
    return pruned(token, _own_side_clause)


def _own_side_clause(child: Token) -> bool:
    own_subject = any(c.dep_ in ("nsubj", "nsubjpass") for c in child.children)
    if own_subject and child.dep_ in ("conj", "parataxis"):
        return True
    return own_subject and child.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ in SIDE_MARKS for c in child.children)


def helper_of(token: Token) -> Token | None:
    """The "help" verb an evasion is nested under ("help Russia evade sanctions")."""
    node = token
    for _ in range(3):
        if node.head is node:
            return None
        node = node.head
        if node.lemma_.lower() in ("help", "assist", "aid", "enable", "allow", "let"):
            return node
        if node.pos_ == "VERB" and node.dep_ not in ("ccomp", "xcomp"):
            return None
    return None


def speaker(token: Token, actors: dict[int, str]) -> str | None:
    """The actor whose quoted words contain ``token`` ("Sullivan stated, 'We are warning…'")."""
    sentence = token.sent
    root = sentence.root
    candidates = [c for c in root.children if c.dep_ == "nsubj"]
    for candidate in candidates:
        found = np_actors(candidate, actors)
        if found:
            return found[0]
    named = [actors[t.i] for t in sentence if t.i in actors and t.i < token.i]
    return named[0] if named else None


def antecedent(pronoun: Token, actors: dict[int, str]) -> str | None:
    """Crude coreference: "Beijing faces allegations that it is aiding…" — the nearest
    earlier actor of the sentence that is itself a grammatical subject."""
    for token in reversed(list(pronoun.sent[: pronoun.i - pronoun.sent.start])):
        if (
            token.i in actors
            and token.dep_ in ("nsubj", "nsubjpass", "compound", "poss")
            and (token.dep_ in ("nsubj", "nsubjpass") or token.head.dep_ in ("nsubj", "nsubjpass"))
        ):
            return actors[token.i]
    return None


def trigger_tokens(sentence: Span, evidence: Evidence) -> dict[int, str]:
    """Token index → topic for the trigger words of the sentence, matched on their text.

    Used only when the Tagger did not pass the trigger positions it found.
    """
    words = [t.lower_ for t in sentence]
    out: dict[int, str] = {}
    topic = evidence.topics[0] if len(evidence.topics) == 1 else ""
    for trigger in evidence.triggers:
        parts = trigger.split()
        for start in range(len(words) - len(parts) + 1):
            if words[start : start + len(parts)] == parts:
                for k in range(len(parts)):
                    out[sentence[start + k].i] = topic or ("sanctions" if "sanction" in trigger else "military_aid")
    return out


#: Auxiliaries that open a condition by inversion, with no "if".
INVERTED_CONDITION = frozenset({"were", "had", "should"})


def inverted_condition(clause: Token) -> bool:
    """A clause that opens the sentence with its auxiliary before its subject ("Should China
    send…, sanctions will follow"); "Were Beijing to ship" parses its subject as an attribute."""
    first = clause.left_edge
    if first.pos_ != "AUX" or first.lower_ not in INVERTED_CONDITION or first.i != clause.sent.start:
        return False
    holder = first if first is clause else clause
    return any(c.dep_ in (*SUBJECT_DEPS, "attr") and c.i > first.i for c in holder.children)


#: Prepositions that name where something happens, not whom an act is for: "sent troops into
#: Ukraine" is an invasion, "sanctions over Ukraine" a reason.
PLACE_PREPOSITIONS = frozenset({"in", "into", "inside", "across", "throughout", "near", "at", "within", "over"})


def in_a_place(token: Token, predicate: Token) -> bool:
    """``token`` names the place itself: "into [Ukraine]", "in [the Russian capital]" — not an
    actor further inside the phrase ("in a boon to Russian business")."""
    node = token
    while node.dep_ in ("compound", "amod", "poss") and node.head is not node and node.head.i != predicate.i:
        node = node.head
    return node.dep_ == "pobj" and node.head.lower_ in PLACE_PREPOSITIONS


#: Prepositions of an act's circumstances (when, despite what): they name no party to it.
CIRCUMSTANCE_PREPOSITIONS = frozenset({"following", "during", "after", "before", "amid", "despite", "since", "over", "until"})


def beside_the_act(token: Token, predicate: Token) -> bool:
    """``token`` names who reports the act at ``predicate`` or its circumstances, not a party to
    it: "according to US officials, China is weighing…", "if China gave support, following US
    intelligence that…"."""
    node = token
    while node.i != predicate.i and node.head.i != node.i:
        if node.lower_ == "according" or (node.lower_ == "to" and node.head.lower_ == "according"):
            return True
        if node.head.i == predicate.i and node.dep_ == "prep" and node.lower_ in CIRCUMSTANCE_PREPOSITIONS:
            return True
        node = node.head
    return False


def asks_for_something(token: Token) -> bool:
    """A verb with a noun object or a prepositional one ("sought weapons", "called on China",
    "called for talks"), or a noun with its asker ("Russia's demand for drones")."""
    if token.pos_ == "VERB":
        return any(c.dep_ in ("dobj", "prep", "dative") for c in token.children)
    return any(c.dep_ == "poss" for c in token.children)


#: How a side clause hangs from an act: beside its content, not part of it ("…, and opposed",
#: "China, which has sent…"); an adverbial clause unless it is a condition (below).
SIDE_DEPS = frozenset({"conj", "parataxis", "relcl"})


#: Marks of an adverbial clause that is part of what was warned, asked or promised.
CONDITION_MARKS = frozenset({"if", "unless", "once"})


def side_clause(node: Token) -> bool:
    """ "…if China sends arms" is the threat's condition and stays part of what was threatened;
    "…, while stressing…" or "…, forcing Moscow to…" is beside the act."""
    if node.dep_ == "advcl":
        return not any(c.dep_ == "mark" and c.lower_ in CONDITION_MARKS for c in node.children)
    return node.dep_ in SIDE_DEPS


def act_subtree(token: Token) -> Iterable[Token]:
    """``token``'s subtree without the adverbial clauses beside it: in "sending aid to Ukraine
    while continuing to oppose sanctions" the sanctions are not what was sent. Coordinated and
    relative clauses stay ("support Russia in areas that are not subject to sanctions")."""
    return pruned(token, lambda child: child.dep_ == "advcl" and side_clause(child))


#: Adjectives of readiness: "willing to send" says the act is intended, not done.
WILLING = frozenset({"willing", "ready", "prepared", "eager", "keen", "open"})


def willing_to(token: Token) -> bool:
    """``token`` is the act an adjective of readiness takes ("is more willing to transfer")."""
    return token.dep_ == "xcomp" and token.head.pos_ == "ADJ" and token.head.lemma_.lower() in WILLING


def own_phrase(token: Token) -> Iterable[Token]:
    """``token`` and its subtree without any other verb's clause: what it itself takes as object
    or phrase ("hit Russia with sanctions"), not what a nested act does ("hit back at the
    decision to slap sanctions")."""
    return pruned(token, lambda child: child.pos_ in ("VERB", "AUX"))


def outside_targets(noun: Token) -> Iterable[Token]:
    """``noun``'s subtree without its "on"/"against" phrases: in "the US sanctions on Russian
    banks" the modifiers of "banks" name the target, not who imposed the sanctions."""
    stack = [noun]
    while stack:
        token = stack.pop()
        yield token
        stack.extend(c for c in token.children if not (c.dep_ == "prep" and c.lower_ in ("on", "against")))


def named_below(tokens: Iterable[Token], token: Token, actors: dict[int, str], exclude: set[str]) -> list[Token]:
    """Actor mentions among ``tokens`` that can be the object of the act at ``token``, nearest
    first: not the act itself, not a place it happens in, not who reports it ("according to US
    officials") or a circumstance ("following US intelligence")."""
    return sorted(
        (
            t
            for t in tokens
            if t.i in actors
            and actors[t.i] not in exclude
            and t.i != token.i
            and not in_a_place(t, token)
            and not beside_the_act(t, token)
        ),
        key=lambda t: abs(t.i - token.i),
    )
