"""Hostile XML: DOCTYPEs defused before feedparser's parsers see them."""

from __future__ import annotations

import pyexpat
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import feedparser
import feedparser.api

# ---------------------------------------------------------------------------------------
# Hostile XML. feedparser strips the DOCTYPE itself (``sanitizer.replace_doctype``) with
# line-anchored regular expressions that a declaration on a shared line slips past, and it
# keeps any short-valued entity, so one 100 KB entity referenced 100,000 times (the
# quadratic blowup) still expands to gigabytes in its loose parser. Ours reads the prolog
# properly and keeps only small internal entities whose total expansion is bounded;
# external entities (XXE), parameter entities and nested references never reach a parser.
# It runs at the same point as feedparser's (after the body was converted to UTF-8), so an
# attack in UTF-16 or EBCDIC is seen too.
# ---------------------------------------------------------------------------------------

MAX_ENTITY_VALUE = 256
#: Where replace_doctype reports how many entity declarations it refused (set by parse_feed).
_refused_entities: ContextVar[list[int] | None] = ContextVar("refused_entities", default=None)
MAX_ENTITIES = 32
MAX_ENTITY_EXPANSION = 1024 * 1024
_CHARREF = re.compile(rb"&#(?:[0-9]+|x[0-9a-fA-F]+);")
_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(%\s+)?([^\s%;>]+)\s+(.*?)\s*>\Z", re.DOTALL)
_SPACE = b" \t\r\n"


def _skip_quoted(data: bytes, i: int) -> int:
    """Index after the quoted literal starting at ``i`` (-1: unterminated)."""
    end = data.find(data[i : i + 1], i + 1)
    return -1 if end < 0 else end + 1


def _declarations(data: bytes, i: int) -> tuple[list[bytes], int]:
    """The markup declarations of an internal subset starting at ``i``; index after ']'."""
    found: list[bytes] = []
    while i < len(data):
        if data[i] in _SPACE:
            i += 1
        elif data[i : i + 1] == b"]":
            return found, i + 1
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            if end < 0:
                break
            i = end + 3
        elif data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            if end < 0:
                break
            i = end + 2
        elif data.startswith(b"<!", i):
            start, i = i, i + 2
            while i < len(data) and data[i : i + 1] != b">":
                i = _skip_quoted(data, i) if data[i : i + 1] in (b'"', b"'") else i + 1
                if i < 0:
                    return found, -1
            if i >= len(data):
                break
            i += 1
            found.append(data[start:i])
        elif data[i : i + 1] == b"%":  # a parameter-entity reference: dropped with the rest
            end = data.find(b";", i)
            if end < 0:
                break
            i = end + 1
        else:
            break
    return found, -1


def _find_doctype(data: bytes) -> tuple[int, int, list[bytes], bytes] | None:
    """(start, end, internal declarations, external id) of the prolog's DOCTYPE, if any."""
    i = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    while i < len(data):
        if data[i] in _SPACE:
            i += 1
        elif data.startswith(b"<?", i):
            end = data.find(b"?>", i + 2)
            if end < 0:
                return None
            i = end + 2
        elif data.startswith(b"<!--", i):
            end = data.find(b"-->", i + 4)
            if end < 0:
                return None
            i = end + 3
        elif data.startswith(b"<!DOCTYPE", i):
            start, j = i, i + 9
            declarations: list[bytes] = []
            head = bytearray()
            while j < len(data):
                char = data[j : j + 1]
                if char in (b'"', b"'"):
                    end = _skip_quoted(data, j)
                    if end < 0:
                        return None
                    head += data[j:end]
                    j = end
                elif char == b"[":
                    declarations, j = _declarations(data, j + 1)
                    if j < 0:
                        return None
                elif char == b">":
                    return start, j + 1, declarations, bytes(head)
                else:
                    head += char
                    j += 1
            return None
        else:
            return None
    return None


def _safe_entities(declarations: list[bytes], document: bytes) -> dict[bytes, bytes]:
    """The internal general entities that are harmless to expand, by name."""
    safe: dict[bytes, bytes] = {}
    for declaration in declarations:
        match = _ENTITY_DECL.match(declaration)
        if not match or match.group(1):  # not an entity, or a parameter entity
            continue
        name, rest = match.group(2), match.group(3)
        if len(rest) < 2 or rest[:1] not in (b'"', b"'") or rest[-1:] != rest[:1]:
            continue  # SYSTEM/PUBLIC: an external entity (XXE)
        value = rest[1:-1]
        if len(value) > MAX_ENTITY_VALUE or b'"' in value:
            continue
        if b"<" in _CHARREF.sub(b"", value) or b"&" in _CHARREF.sub(b"", value) or b"%" in value:
            continue  # markup or nested references (billion laughs)
        safe[name] = value
    if len(safe) > MAX_ENTITIES:
        return {}
    expansion = sum(document.count(b"&" + name + b";") * len(value) for name, value in safe.items())
    return safe if expansion <= MAX_ENTITY_EXPANSION else {}


def replace_doctype(data: bytes) -> tuple[str | None, bytes, dict[str, str]]:
    """feedparser's ``replace_doctype`` contract: (version, data, entities), hardened."""
    found = _find_doctype(data)
    if found is None:
        return None, data, {}
    start, end, declarations, head = found
    version = "rss091n" if b"netscape" in head.lower() else None
    safe = _safe_entities(declarations, data[end:])
    replacement = b""
    if safe:
        replacement = b"<!DOCTYPE feed [\n" + b"".join(b'<!ENTITY %s "%s">\n' % item for item in safe.items()) + b"]>"
    entities = {name.decode("utf-8", "replace"): value.decode("utf-8", "replace") for name, value in safe.items()}
    refused = sum(1 for declaration in declarations if declaration.startswith(b"<!ENTITY")) - len(safe)
    report = _refused_entities.get()
    if report is not None and refused:
        report.append(refused)
    return version, data[:start] + replacement + data[end:], entities


def harden_feedparser() -> None:
    """Route feedparser's DOCTYPE handling through ours (idempotent; see above)."""
    feedparser.api.replace_doctype = replace_doctype


def expat_status() -> tuple[str, bool]:
    """The Expat version Python parses with, and whether it limits entity amplification.

    Expat 2.4.0 added billion-laughs protection and 2.4.1 fixed it; older builds rely on
    our DOCTYPE filter alone.
    """
    return pyexpat.EXPAT_VERSION, pyexpat.version_info >= (2, 4, 1)


@contextmanager
def counting_refusals() -> Iterator[list[int]]:
    """Within the block, entity declarations refused by ``replace_doctype`` are appended
    (as counts) to the yielded list, so one parse can report them."""
    refused: list[int] = []
    token = _refused_entities.set(refused)
    try:
        yield refused
    finally:
        _refused_entities.reset(token)
