"""Hostile feed documents, built at test time (nothing of the kind is stored in the repo)."""

from __future__ import annotations

ITEM = b"<item><title>Item</title><link>https://example.org/a</link><description>%s</description></item>"


def _rss(doctype: bytes, description: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        + doctype
        + b'\n<rss version="2.0"><channel><title>Hostile</title>'
        + ITEM % description
        + b"</channel></rss>"
    )


def billion_laughs(levels: int = 10) -> bytes:
    """The classic: each entity is ten of the previous one, 10^levels expansions in all."""
    lines = [b'<!ENTITY lol0 "lol">']
    for level in range(1, levels):
        lines.append(b'<!ENTITY lol%d "%s">' % (level, b"&lol%d;" % (level - 1) * 10))
    return _rss(b"<!DOCTYPE rss [\n" + b"\n".join(lines) + b"\n]>", b"&lol%d;" % (levels - 1))


def billion_laughs_one_line(levels: int = 10) -> bytes:
    """The same on one line, which line-anchored DOCTYPE stripping does not see."""
    decls = [b'<!ENTITY lol0 "lol">'] + [
        b'<!ENTITY lol%d "%s">' % (level, b"&lol%d;" % (level - 1) * 10) for level in range(1, levels)
    ]
    return _rss(b"<!DOCTYPE rss [" + b" ".join(decls) + b"]>", b"&lol%d;" % (levels - 1))


def quadratic_blowup(value_bytes: int = 100_000, references: int = 20_000) -> bytes:
    """One big entity referenced many times: no nesting, still gigabytes when expanded."""
    doctype = b'<!DOCTYPE rss [\n<!ENTITY a "' + b"a" * value_bytes + b'">\n]>'
    return _rss(doctype, b"&a;" * references)


def xxe(system_id: str) -> bytes:
    """An external entity pointing at a local file or a URL, used in the item text."""
    doctype = b'<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "' + system_id.encode() + b'">\n]>'
    return _rss(doctype, b"&xxe;")


def xxe_parameter(system_id: str) -> bytes:
    """An external parameter entity, expanded inside the DTD itself."""
    doctype = b'<!DOCTYPE rss [\n<!ENTITY % ext SYSTEM "' + system_id.encode() + b'">\n%ext;\n]>'
    return _rss(doctype, b"plain")
