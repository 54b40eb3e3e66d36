"""Slack messages for alerts, built with slack_sdk's Block Kit models (pure, no I/O).

Every feed-supplied string goes through ``feed_text``: ``&``, ``<`` and ``>`` are escaped
(so a title cannot ``<!channel>`` anyone or forge a link), control characters are dropped,
and the result is cut to the field's limit *after* escaping, never inside an entity.
Lengths are counted in UTF-16 code units, as Slack's JavaScript does, so CJK and emoji
titles cannot slip past a limit that Python's ``len`` would have passed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from monitor.models import Alert
from monitor.sinks.base import modality_label

#: Slack's documented limits (blocks per message, characters per field) and the
#: total text we allow per message (Slack truncates long messages; the issue caps it).
MAX_BLOCKS = 50
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000
CONTEXT_ELEMENTS = 10
BUTTON_TEXT_CHARS = 75
URL_CHARS = 3000
FALLBACK_CHARS = 300
TOTAL_CHARS = 12_000

ELLIPSIS = "…"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
KIND_LABEL = {"new": "New story", "escalation": "Escalation"}


def units(text: str) -> int:
    """Length as Slack counts it: UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Slack's three control characters as entities; nothing else is special."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """``text`` (already escaped) cut to ``limit`` UTF-16 units, ending in an ellipsis.

    Never cuts an ``&amp;``-style entity in half, nor a surrogate pair.
    """
    if units(text) <= limit:
        return text
    budget = limit - units(ELLIPSIS)
    out: list[str] = []
    used = 0
    for char in text:
        size = units(char)
        if used + size > budget:
            break
        out.append(char)
        used += size
    kept = _ENTITY_TAIL.sub("", "".join(out))
    return kept + ELLIPSIS


def feed_text(text: str | None, limit: int) -> str:
    """A feed-supplied string made safe for a Slack text field of ``limit`` units."""
    cleaned = _CONTROL.sub(" ", text or "")
    return cut(escape(cleaned), limit)


def _safe_url(url: str) -> str | None:
    # A button URL is a JSON field, not mrkdwn, so it cannot mention anyone; we still only
    # link plain http(s) addresses that fit, and never put them inside mrkdwn text.
    url = (url or "").strip()
    if url.startswith(("https://", "http://")) and units(url) <= URL_CHARS and not _CONTROL.search(url):
        return url
    return None


def _seen(alert: Alert) -> str:
    when = alert.first_seen or alert.created_at
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else "-"


def _kind_label(alert: Alert) -> str:
    """New story or Escalation, with the modality when it is not asserted ("New story ·
    denied"): a story that rests on a denial must not read like a fact."""
    label = KIND_LABEL.get(alert.kind, "Alert")
    modality = modality_label(alert)
    return f"{label} · {modality}" if modality else label


def _title(alert: Alert) -> str:
    modality = modality_label(alert)
    if alert.kind == "escalation":
        prefix = f"Escalation · {modality}: " if modality else "Escalation: "
    else:
        prefix = f"{modality.capitalize()}: " if modality else ""
    return feed_text(prefix + (alert.headline or "(untitled)"), HEADER_CHARS)


def _evidence_text(alert: Alert, limit: int) -> str:
    sentences = [item.sentence for item in alert.evidence[:3]] or ["(no evidence sentence)"]
    # "»", not mrkdwn's ">" quote: no raw <, > or & ever appears in our text fields.
    body = "\n".join(f"» {feed_text(sentence, limit)}" for sentence in sentences)
    return cut(body, limit)


def _context(alert: Alert, *, updates_note: bool) -> ContextBlock:
    source = feed_text(alert.source or alert.first_source or "unknown", 200)
    topics = feed_text(", ".join(alert.topics) or "-", 200)
    elements = [
        MarkdownTextObject(text=f"*Source:* {source}", verbatim=True),
        MarkdownTextObject(text=f"*First seen:* {_seen(alert)}", verbatim=True),
        MarkdownTextObject(text=f"*Corroboration:* {alert.corroboration} outlet(s)", verbatim=True),
        MarkdownTextObject(text=f"*Topics:* {topics}", verbatim=True),
        MarkdownTextObject(text=f"alert `{feed_text(alert.id, 100)}`", verbatim=True),
    ]
    if updates_note and alert.updates:
        elements.append(MarkdownTextObject(text=f"updates alert `{feed_text(alert.updates, 100)}`", verbatim=True))
    return ContextBlock(elements=elements[:CONTEXT_ELEMENTS])


def alert_blocks(alert: Alert, *, threaded: bool = False, console: str | None = None) -> list[Block]:
    """Header, evidence with actors, context, and buttons to the article and, given
    ``console`` (the alert's page there), to the console.

    ``threaded``: the message is a reply in the first alert's thread, so it need not say
    which alert it updates; otherwise an escalation names the alert it updates.
    """
    actors = feed_text(" / ".join(alert.actors) or "-", FIELD_CHARS - 20)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=_title(alert), emoji=False)),
        SectionBlock(
            text=MarkdownTextObject(text=_evidence_text(alert, SECTION_CHARS), verbatim=True),
            fields=[MarkdownTextObject(text=f"*Actors:* {actors}", verbatim=True)],
        ),
        _context(alert, updates_note=not threaded),
    ]
    url = _safe_url(alert.url)
    buttons = []
    if url:
        buttons.append(
            ButtonElement(text=PlainTextObject(text="Read the article", emoji=False), url=url, action_id="open_article")
        )
    page = _safe_url(console or "")
    if page:
        buttons.append(
            ButtonElement(text=PlainTextObject(text="Open in newsmon", emoji=False), url=page, action_id="open_console")
        )
    if buttons:
        blocks.append(ActionsBlock(elements=buttons))
    return blocks


def fallback_text(alert: Alert) -> str:
    """The notification text (shown where blocks are not)."""
    return feed_text(f"newsmon {_kind_label(alert).lower()}: {alert.headline}", FALLBACK_CHARS)


def alert_message(alert: Alert, *, threaded: bool = False, console: str | None = None) -> dict[str, Any]:
    """The JSON body for one alert (validated by the slack_sdk models' ``to_dict``)."""
    return {
        "text": fallback_text(alert),
        "blocks": [block.to_dict() for block in alert_blocks(alert, threaded=threaded, console=console)],
    }


def _digest_item(alert: Alert, number: int) -> list[Block]:
    label = _kind_label(alert)
    headline = feed_text(alert.headline or "(untitled)", 300)
    evidence = _evidence_text(alert, 1200)
    text = cut(f"*{label}:* {headline}\n{evidence}", SECTION_CHARS)
    section = SectionBlock(text=MarkdownTextObject(text=text, verbatim=True))
    url = _safe_url(alert.url)
    if url:
        section = SectionBlock(
            text=MarkdownTextObject(text=text, verbatim=True),
            accessory=ButtonElement(
                text=PlainTextObject(text="Article", emoji=False), url=url, action_id=f"open_article_{number}"
            ),
        )
    return [section, _context(alert, updates_note=True)]


def digest_messages(alerts: list[Alert], minutes: float) -> list[dict[str, Any]]:
    """Several alerts as as few messages as the limits allow (none is ever dropped)."""
    messages: list[dict[str, Any]] = []
    pending = list(alerts)
    while pending:
        head = f"newsmon digest: {len(alerts)} alert(s) in the last {minutes:g} min"
        if messages:
            head += " (continued)"
        blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=cut(head, HEADER_CHARS), emoji=False))]
        fallback = cut(head, FALLBACK_CHARS)
        size = units(fallback) + text_units([block.to_dict() for block in blocks])
        while pending:
            item = _digest_item(pending[0], len(alerts) - len(pending))
            item_size = text_units([block.to_dict() for block in item]) + 1
            too_big = len(blocks) + len(item) + 1 > MAX_BLOCKS or size + item_size > TOTAL_CHARS
            if too_big and len(blocks) > 1:  # an item always fits a message of its own
                break
            if len(blocks) > 1:
                blocks.append(DividerBlock())
            blocks += item
            size += item_size
            pending.pop(0)
        messages.append({"text": fallback, "blocks": [block.to_dict() for block in blocks]})
    return messages


def texts(value: Any) -> Iterable[str]:
    """Every ``text`` string inside a payload (block texts, fields, elements, fallback)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                yield item
            else:
                yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)


def text_units(value: Any) -> int:
    return sum(units(text) for text in texts(value))


def limit_problems(payload: dict[str, Any]) -> list[str]:
    """What in ``payload`` breaks Slack's limits; empty when it is fine (receivers use it too)."""
    problems = []
    blocks = payload.get("blocks", [])
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"{len(blocks)} blocks > {MAX_BLOCKS}")
    for index, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "header" and units(block["text"]["text"]) > HEADER_CHARS:
            problems.append(f"block {index}: header over {HEADER_CHARS}")
        if kind == "section":
            if block.get("text") and units(block["text"]["text"]) > SECTION_CHARS:
                problems.append(f"block {index}: section text over {SECTION_CHARS}")
            for field in block.get("fields", []):
                if units(field["text"]) > FIELD_CHARS:
                    problems.append(f"block {index}: field over {FIELD_CHARS}")
        if kind == "context" and len(block.get("elements", [])) > CONTEXT_ELEMENTS:
            problems.append(f"block {index}: more than {CONTEXT_ELEMENTS} context elements")
    total = text_units(payload)
    if total > TOTAL_CHARS:
        problems.append(f"{total} characters of text > {TOTAL_CHARS}")
    return problems
