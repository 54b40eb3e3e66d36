"""Modality: how sure the text is of the act a claim reports.

Read from the predicate and the clauses above it in the dependency parse, strongest first:

* **denied**: a negation ("did not send"), a denial above ("denies sending"), a negating word
  ("avoided providing", "reluctant to provide"), or a charge the claim's own subject denies;
* **conditional**: "if"/"unless", an inverted condition ("Were Beijing to ship…"), a question;
* **hedged**: "may", "reportedly", "possible", and a forecast that an act will not happen
  ("hopeful that Xi will not assist");
* **attributed**: under someone else's "said", "accused", "according to", or under the
  speaker's own "says" when the act is what it says;
* else **asserted**.

An act in a relative clause or a passive participle describing a noun is background: nothing
above the noun applies to it ("has not joined the sanctions imposed on Moscow").
"""

from __future__ import annotations

from spacy.tokens import Span, Token

from monitor.nlp import grammar
from monitor.watchlist import ModalityCues

#: Nouns whose clause is what they hold, not a description of them ("information that…").
CONTENT_NOUNS = frozenset({"information", "evidence", "indication", "sign", "suggestion", "news", "word", "fear", "fears"})
#: "…, a claim both (governments) deny": the deniers are every party to it.
EVERY_PARTY = frozenset({"both", "all"})
MODALITY_ORDER = ("denied", "conditional", "hedged", "attributed", "asserted")


class ModalityReader:
    """The watchlist's modality cues, read against a parse."""

    def __init__(self, cues: ModalityCues, charge_nouns: frozenset[str]):
        self._negations = frozenset(cues.negations)
        self._denials = frozenset(cues.denials)
        self._negating = frozenset(cues.negating)
        self._conditionals = frozenset(cues.conditionals)
        self._hedges = frozenset(cues.hedges)
        self._reporting = frozenset(cues.reporting)
        self._forecasts = frozenset(cues.forecasts)
        #: What a denial denies ("charge", "accusation").
        self._charge_nouns = charge_nouns

    def read(self, token: Token, subjects: list[str], actors: dict[int, str]) -> str:
        """The modality of the act at ``token`` done by ``subjects``."""
        found = {"asserted"}
        chain = self._presupposed_cut([token, *grammar.clause_ancestors(token)])
        for i, node in enumerate(chain):
            children = list(node.children)
            if any(c.dep_ == "neg" or c.lower_ in self._negations and c.dep_ in ("neg", "advmod", "det") for c in children):
                found.add("denied")
            if i > 0 and node.lemma_.lower() in self._denials and node.pos_ == "VERB":
                # "…, a charge Beijing denies" is still the accuser's report, unless the one
                # who denies it is the claim's own subject: then the claim is disputed.
                if not self._denies_a_charge(node) or set(self._deniers(node, actors)) & set(subjects):
                    found.add("denied")
            if any(c.dep_ == "mark" and c.lower_ in self._conditionals for c in children):
                found.add("conditional")
            if node.dep_ in ("advcl", "ccomp") and grammar.inverted_condition(node):
                found.add("conditional")  # "Were Beijing to ship arms…", "Had China sent…"
            if (
                any(
                    c.dep_ == "advcl"
                    and (
                        any(m.dep_ == "mark" and m.lower_ in ("if", "unless") for m in c.children)
                        or grammar.inverted_condition(c)
                    )
                    for c in children
                )
                and i == 0
            ):
                found.add("conditional")
            if any(c.dep_ in ("aux", "advmod") and c.lower_ in self._hedges for c in children):
                found.add("hedged")
            if i > 0 and node.lemma_.lower() in self._hedges and node.pos_ == "VERB":
                found.add("hedged")
            if i > 0 and self._reports(node, chain[i - 1], token, actors, subjects):
                found.add("attributed")
            if (
                i == 0
                and node.pos_ == "NOUN"
                and node.dep_ == "pobj"
                and node.head.lower_ != "to"  # "agreed to a request" answers it
                and node.head.head.lemma_.lower() in self._reporting
            ):
                found.add("attributed")
            if i > 0 and node.lemma_.lower() in self._negating and node.pos_ in ("VERB", "ADJ"):
                found.add("denied")  # "avoided providing", "reluctant to provide"
            if i > 0 and any(self._it_is_possible(c) and c.i < token.i for c in children if c.dep_ == "ccomp"):
                # "said it was still possible China helps…", parsed as two clauses of "said".
                found.add("hedged")
            for c in children:
                # "it was still possible China helps…", "China is reluctant to…": the adjective
                # is the copula's complement, beside the clause rather than above it.
                if c.dep_ == "acomp" and c.lemma_.lower() in self._negating:
                    found.add("denied")
                elif c.dep_ == "acomp" and c.lemma_.lower() in self._hedges:
                    found.add("hedged")
                # "…refused to violate the sanctions, said Craig Singleton": a trailing report.
                elif c.dep_ in ("parataxis", "ccomp") and c.i > token.i and c.lemma_.lower() in self._reporting:
                    speaker = [a for s in c.children if s.dep_ == "nsubj" for a in grammar.np_actors(s, actors)]
                    if not speaker or set(speaker) - set(subjects):
                        found.add("attributed")
            if i > 0 and node.lemma_.lower() in self._hedges and node.pos_ == "ADJ":
                found.add("hedged")
        if any(t.lower_ == "according" for t in token.sent):
            found.add("attributed")
        if self._charge_denied_by(token.sent, subjects, actors):
            found.add("denied")  # "accused Beijing of enabling Moscow's war, a charge Beijing denies"
        if "denied" in found and self._forecast(token, chain):
            # "hopeful that Xi will not assist Russia": a forecast that it will not happen.
            found.discard("denied")
            found.add("hedged")
        if token.sent.text.rstrip().rstrip(" \"'”’)").endswith("?"):  # a line's "\n\n" is the sentence's too
            found.add("conditional")  # "Will China help Russia cope with sanctions?" asks, not says
        for modality in MODALITY_ORDER:
            if modality in found:
                return modality
        return "asserted"

    def _reports(self, node: Token, below: Token, token: Token, actors: dict[int, str], subjects: list[str]) -> bool:
        """Whether the reporting word ``node``, reached from ``below``, reports the act at ``token``.

        An act coordinated with a report is not reported by it ("accused China of…, and
        sanctioned its firms"; what it sanctioned them for still is), nor is what a verb answers
        ("agreed to a Russian request"). A speaker's own act in what it says is reported ("China
        says it will keep opposing sanctions"); its own act named in passing is not ("the US says
        China contravened US sanctions")."""
        if node.lemma_.lower() not in self._reporting:
            return False
        if (below is token and token.dep_ == "conj" and token.pos_ == "VERB") or (below.dep_ == "prep" and below.lower_ == "to"):
            return False
        speaker = [a for c in node.children if c.dep_ in ("nsubj", "poss") for a in grammar.np_actors(c, actors)]
        own_act_said = token.pos_ == "VERB" and below.dep_ == "ccomp"
        return not speaker or bool(set(speaker) - set(subjects)) or own_act_said

    def _presupposed_cut(self, chain: list[Token]) -> list[Token]:
        """The chain up to a relative clause or a passive participle describing a noun: what such a
        clause says is given as background, whatever the clauses above do to the noun ("has not
        joined the sanctions imposed on Moscow by the US": the US did impose them; "the
        sanctions the US has imposed", inside what officials said, is no report of theirs). What
        a report, a charge or information says ("intelligence that Moscow asked") is no
        background: it stays under what is said of it."""
        for i, node in enumerate(chain[:-1]):
            described = node.head.lemma_.lower()
            if described in self._reporting or described in self._charge_nouns or described in CONTENT_NOUNS:
                continue
            if node.dep_ == "relcl" or (node.dep_ == "acl" and node.tag_ == "VBN"):
                return chain[: i + 1]
        return chain

    def _forecast(self, token: Token, chain: list[Token]) -> bool:
        """A hope or expectation above the act ("hopeful that Xi will not assist", "don't believe
        China would provide"), about the future or itself negated: "officials believe China did
        not send arms" stays a denial."""
        future = any(c.dep_ == "aux" and c.lower_ in ("will", "would", "'ll") for c in token.children)
        for node in chain[1:]:
            words = [node, *(c for c in node.children if c.dep_ == "acomp")]
            if not any(w.lemma_.lower() in self._forecasts and w.pos_ in ("VERB", "ADJ") for w in words):
                continue
            if future or any(c.dep_ == "neg" for c in node.children):
                return True
        return False

    def _charge_denied_by(self, sentence: Span, subjects: list[str], actors: dict[int, str]) -> bool:
        """The sentence reports a charge that the claim's own subject denies."""
        for token in sentence:
            if (
                token.dep_ == "relcl"
                and token.lemma_.lower() in self._denials
                and token.head.lemma_.lower() in self._charge_nouns
            ):
                everyone = any(
                    c.dep_ == "nsubj" and (c.lower_ in EVERY_PARTY or any(d.lower_ in EVERY_PARTY for d in c.children))
                    for c in token.children
                )
                if everyone or set(self._deniers(token, actors)) & set(subjects):
                    return True
        return False

    def _it_is_possible(self, clause: Token) -> bool:
        """ "it was possible", "it is likely": a copula with "it" and a hedging complement."""
        return (
            clause.lemma_ == "be"
            and any(c.dep_ in ("nsubj", "expl") and c.lower_ == "it" for c in clause.children)
            and any(c.dep_ == "acomp" and c.lemma_.lower() in self._hedges for c in clause.children)
        )

    @staticmethod
    def _deniers(verb: Token, actors: dict[int, str]) -> list[str]:
        return [a for c in verb.children if c.dep_ == "nsubj" for a in grammar.np_actors(c, actors)]

    def _denies_a_charge(self, verb: Token) -> bool:
        """ "…, a charge Beijing denies": the denial answers the charge; the clause stays reported."""
        return any(c.dep_ == "dobj" and c.lemma_.lower() in self._charge_nouns for c in verb.children)
