"""A claim's ``marked`` sentence as segments a template renders, each escaped.

The tagger marks actors as ``[[China|CHN]]`` and the action as ``<<sent|provide>>``; the
sentence came from a feed, so it is split here into plain strings and never parsed as HTML.
"""

from __future__ import annotations

import re
from typing import NamedTuple

MARK = re.compile(r"\[\[(?P<actor>[^\]|]*)\|(?P<actor_id>[^\]]*)\]\]|<<(?P<action>[^>|]*)\|(?P<action_id>[^>]*)>>")


class Segment(NamedTuple):
    text: str
    #: "" for plain text, "actor" or "action" for a marked span.
    kind: str = ""
    #: The actor or action id the span was linked to.
    ref: str = ""


def segments(marked: str) -> list[Segment]:
    """``marked`` split into plain and marked segments, in order."""
    parts: list[Segment] = []
    end = 0
    for match in MARK.finditer(marked):
        if match.start() > end:
            parts.append(Segment(marked[end : match.start()]))
        if match.group("actor") is not None:
            parts.append(Segment(match.group("actor"), "actor", match.group("actor_id")))
        else:
            parts.append(Segment(match.group("action"), "action", match.group("action_id")))
        end = match.end()
    if end < len(marked):
        parts.append(Segment(marked[end:]))
    return parts
