"""Text normalisation before NLP: one function every path (poller, full text, replay) calls.

spaCy splits sentences well on clean prose and badly on what feeds and scraped pages
actually carry: sentences glued at the full stop ("on Moscow.Since then"), entities and
tags left in the text, the headline repeated as the body's first line, share-bar and
advertisement lines, live-blog timestamps. ``normalise`` removes those with regexes (no
spaCy: it runs on every article) and is idempotent, so a record normalised at the poller
and again at replay is the same text. ``squash`` is the codebase's one whitespace rule.
"""

from __future__ import annotations

import html
import re

#: Characters that are not whitespace to ``str.split`` but render as nothing.
INVISIBLE = re.compile("[\u200b\u2060\ufeff\u00ad]")
#: Only named and numeric references ending in ";": "AT&T" and "R&D" are prose, not entities.
ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_TAG_NAMES = (
    "a|abbr|article|aside|b|blockquote|br|caption|center|cite|code|dd|del|div|dl|dt|em|figcaption|figure|"
    "font|footer|h[1-6]|header|hr|i|iframe|img|ins|li|link|main|mark|meta|nav|ol|p|picture|pre|q|s|section|"
    "small|source|span|strike|strong|sub|sup|table|tbody|td|tfoot|th|thead|time|tr|u|ul|video"
)
#: Script and style bodies are code, not text: dropped with their tags (``_drop_code``).
CODE_OPEN = re.compile(r"<(script|style|noscript)\b[^<>\n]*>", re.IGNORECASE)
CODE_CLOSE = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in ("script", "style", "noscript")}
#: Escaped ampersands however deep ("&amp;amp;amp;#8217;") are one ampersand: the fixed point
#: of decoding one level per pass, reached in one substitution instead of one pass per level.
NESTED_AMP = re.compile(r"&(?:amp;)+", re.IGNORECASE)
#: Passes of ``_strip_markup`` at most. Feeds escape twice or three times; the bound keeps
#: hostile input ("&lt;" nested a thousand deep) linear, at the price of idempotence there.
MAX_MARKUP_PASSES = 16
#: Tags that end a paragraph become a line break; the rest vanish. Never across a line (so
#: dropping lines later cannot assemble a new tag, which keeps ``normalise`` idempotent).
BLOCK_TAG = re.compile(
    r"</?(?:br|p|div|li|ul|ol|h[1-6]|blockquote|tr|section|article|figcaption|figure|header|footer)\b[^<>\n]*>",
    re.IGNORECASE,
)
INLINE_TAG = re.compile(rf"</?(?:{_TAG_NAMES})\b[^<>\n]*>|<!--[^\n]*?-->", re.IGNORECASE)

#: A whitespace-free token that is an address: never split at its dots.
ADDRESS = re.compile(r"://|www\.|@|\.(?:com|org|net|gov|edu|int|io|co\.uk)\b", re.IGNORECASE)
#: A sentence end glued to the next word: end of a word (letter, digit, percent or closing
#: quote), one of .!? and an upper-case letter opening a word ("Since", "A ", "I ").
LAST_WORD = re.compile(r"[A-Za-z0-9%]+$")
NOT_SENTENCE_ENDS = frozenset({"Ph"})
DOMAIN_END = re.compile(r"(?:Ru|Ai|Io|Tv)\b")
GLUED = re.compile(r"(?<=[A-Za-z0-9%\"”’)\]])[.!?](?=[A-Z](?:[a-z]|$))")

_TZ = r"(?:\s*(?:ET|EDT|EST|CT|CDT|CST|MT|MDT|MST|PT|PDT|PST|GMT|UTC|BST|CET|CEST|MSK|IST|HKT|JST|AEST|AEDT))?"
_CLOCK = r"\d{1,2}(?::\d{2})?\s*[ap]\.?\s?m\.?|\d{1,2}:\d{2}(?::\d{2})?"
# Whole names or their abbreviations only: "Marseille 3", "Augsburg 2" and "12 Marines" are
# results lines and prose, not stamps.
_DAY = r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\b\.?"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_DATE = rf"(?:{_DAY},?\s*)?(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}\s+{_MONTH})(?:,?\s*\d{{4}})?"
#: A live-blog stamp on a line of its own: "1:45 p.m. ET", "14:05 GMT", "12 min ago",
#: "Updated 3:12 PM EDT, Mon July 22, 2024".
TIMESTAMP_LINE = re.compile(
    rf"(?:(?:last\s+)?(?:updated|posted|published)\s*:?\s*)?"
    rf"(?:(?:{_CLOCK}){_TZ}(?:\s*[,·|-]?\s*{_DATE})?|{_DATE}(?:\s*[,·|-]?\s*(?:{_CLOCK}){_TZ})?"
    rf"|\d{{1,3}}\s*(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\s+ago|just\s+now)\.?",
    re.IGNORECASE,
)
#: Page furniture that scrapers and feeds keep as lines of their own. Whole lines only.
BOILERPLATE_LINE = re.compile(
    r"(?:advertisement|advertisment|ad|read\s+more|see\s+more|continue\s+reading|share|share\s+this(?:\s+(?:article|story|page|post))?"
    r"|share\s+(?:on|via)\s+(?:facebook|twitter|x|linkedin|whatsapp|email|reddit)"
    r"|sign\s+up\s+for(?:\s+\S+){0,6}?\s+newsletters?(?:\s+\S+){0,3}|skip\s+to\s+(?:main\s+)?content"
    r"|click\s+here\s+to(?:\s+\S+){1,6}|follow\s+us\s+on(?:\s+\S+){1,6}|copy\s+link(?:\s+to\s+clipboard)?|link\s+copied)"
    r"[\s.:!»›>…-]*",
    re.IGNORECASE,
)


def squash(text: str, *, lines: bool = True) -> str:
    """Runs of whitespace to one space, each line stripped, empty lines dropped.

    With ``lines`` (the default) line breaks are kept, one "\\n" per paragraph break;
    without, the text becomes one line (a mention, a sentence, a hash key).
    """
    if not lines:
        return " ".join(text.split())
    return "\n".join(squashed for squashed in (" ".join(line.split()) for line in text.splitlines()) if squashed)


def normalise(text: str, *, title: str = "") -> str:
    """The text NLP is given: markup decoded, furniture dropped, glued sentences parted.

    ``title`` is the article's headline: body lines at the top that repeat it are dropped
    (compose_text puts the title in front of the body itself).
    """
    lines = [_part_glued(line) for line in squash(_strip_markup(text)).split("\n")]
    lines = [line for line in lines if line and not _furniture(line)]
    heading = _heading_key(title)
    while heading and lines and _heading_key(lines[0]) == heading:
        lines.pop(0)
    return "\n".join(lines)


def _strip_markup(text: str) -> str:
    # To a fixed point: feeds double-escape ("&amp;#8217;", "&lt;p&gt;"), and one more
    # pass must find nothing (each pass that changes the text shortens it, so this ends).
    for _ in range(MAX_MARKUP_PASSES):
        stripped = INVISIBLE.sub("", text)
        stripped = _drop_code(stripped)
        stripped = BLOCK_TAG.sub("\n", stripped)
        stripped = INLINE_TAG.sub("", stripped)
        stripped = NESTED_AMP.sub("&", stripped)
        stripped = ENTITY.sub(lambda match: html.unescape(match.group()), stripped)
        if stripped == text:
            break
        text = stripped
    return text


def _drop_code(text: str) -> str:
    """Script, style and noscript blocks removed, in one scan.

    A regex with a lazy body would search to the end of the text for each opening tag that is
    never closed: quadratic on a description that opens ``<script>`` thousands of times. Here
    a name with no closing tag after an opening is never looked for again.
    """
    out, at, unclosed = [], 0, set()
    for opening in CODE_OPEN.finditer(text):
        name = opening.group(1).lower()
        if opening.start() < at or name in unclosed:
            continue
        closing = CODE_CLOSE[name].search(text, opening.end())
        if closing is None:
            unclosed.add(name)
            continue
        out += [text[at : opening.start()], "\n"]
        at = closing.end()
    out.append(text[at:])
    return "".join(out)


def _part_glued(line: str) -> str:
    return " ".join(_part_token(token) for token in line.split(" "))


def _part_token(token: str) -> str:
    if not any(mark in token for mark in ".!?") or ADDRESS.search(token):
        return token
    out, last = [], 0
    for match in GLUED.finditer(token):
        # The piece since the previous mark, found backwards: splitting the whole prefix at
        # every match would be quadratic on one long "Ab.Ab.Ab." token.
        piece_start = max(token.rfind(mark, 0, match.start()) for mark in ".!?") + 1
        word = LAST_WORD.search(token[piece_start : match.start()].rstrip('"”’)]'))
        # "e.g.Smith", "U.S.Army", "J.R.R.Tolkien", "(R-W.Va.)": a one-letter piece before the
        # dot is an initial or an abbreviation, not a sentence end; nor are "Ph.D" and "Mail.Ru".
        # A one-digit piece is a sentence end ("killed on day 5.The", a live blog's "2.Hide").
        if word is None or (len(word.group()) == 1 and not word.group().isdigit()) or word.group() in NOT_SENTENCE_ENDS:
            continue
        if DOMAIN_END.match(token, match.end()):
            continue
        out.append(token[last : match.end()])
        last = match.end()
    out.append(token[last:])
    return " ".join(out)


def _furniture(line: str) -> bool:
    return len(line) <= 140 and bool(BOILERPLATE_LINE.fullmatch(line) or TIMESTAMP_LINE.fullmatch(line))


def _heading_key(line: str) -> str:
    return _part_glued(squash(_strip_markup(line), lines=False)).casefold().rstrip(" .:;!?")
