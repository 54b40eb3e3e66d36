"""Sentences marked for the analyst: each side of the link ``[[Beijing|CHN]]`` and, in a
claim, its predicate ``<<sent|provide>>`` (the alert and the console render the marks)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from spacy.tokens import Span, Token

from monitor.text import squash


def mark(
    sentence: Span,
    actors: Mapping[int, str],
    parties: Collection[str],
    predicate: Token | None = None,
    action_id: str = "",
) -> str:
    """The sentence with each mention of ``parties`` marked, and the predicate if one is given:
    ``[[China|CHN]] <<sent|provide>> weapons to [[Russia|RUS]].``"""
    out: list[str] = []
    tokens = list(sentence)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        actor = actors.get(token.i)
        if actor in parties:
            j = i
            while j + 1 < len(tokens) and actors.get(tokens[j + 1].i) == actor and tokens[j + 1].ent_iob_ == "I":
                j += 1
            span = sentence.doc[token.i : tokens[j].i + 1]
            out.append(f"[[{span.text}|{actor}]]{tokens[j].whitespace_}")
            i = j + 1
            continue
        if predicate is not None and token.i == predicate.i:
            out.append(f"<<{token.text}|{action_id}>>{token.whitespace_}")
        else:
            out.append(token.text_with_ws)
        i += 1
    return squash("".join(out), lines=False)
