"""Stable identity for articles: canonical URLs and the ids derived from them.

A publisher that switches http→https, adds ``utm_`` parameters or reorders its query
string must not create a new article, so the id hashes the canonical URL, not the raw one.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from monitor.text import squash

# Query parameters that only say where a click came from.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_ga",
        "_gl",
        "ref",
        "ref_src",
        "ref_url",
        "cmpid",
        "cmp",
        "ocid",
        "smid",
        "smtyp",
        "taid",
        "soc_src",
        "soc_trk",
        "at_medium",
        "at_campaign",
        "CMP",
        "ito",
        "mbid",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "s_cid",
        "sr_share",
        "fromrss",
        "xtor",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "vero_id",
        "ncid",
        "trk",
        "spm",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "ns_", "oly_")
# A session id in the path (";jsessionid=…") names the visit, not the article.
SESSION_IN_PATH = re.compile(r";(?:jsessionid|phpsessid|sid)=[^/?#]*", re.IGNORECASE)
DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or name in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Normalise a URL so that cosmetic variants of one article compare equal.

    Lower-cases scheme and host, treats http and https as one, drops default ports,
    fragments, tracking parameters, session ids in the path and a trailing slash, and
    sorts the query.
    """
    url = url.strip()
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        given_port = parts.port if scheme in ("http", "https") else None
    except ValueError:
        # "http://example.com:99999/a", "http://[::1/a": not a URL we can normalise. Kept as
        # it is, so one such link is still one id and its item is not lost with its feed.
        return url
    if scheme not in ("http", "https"):
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    port = given_port if given_port and given_port != DEFAULT_PORTS.get(scheme) else None
    netloc = f"{host}:{port}" if port else host
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k))
    path = SESSION_IN_PATH.sub("", parts.path) or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/")
    # http and https serve the same article; the id must not change when a site moves to TLS.
    return urlunsplit(("https", netloc, path, urlencode(query), ""))


def short_hash(*parts: str, length: int = 16) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def article_id(url: str = "", guid: str = "", fallback: str = "") -> str:
    """Id of an article: hash of its canonical URL, else of its guid, else of ``fallback``."""
    canonical = canonical_url(url)
    # "http://" only for a link canonical_url could not parse: still the article's address.
    if canonical.startswith(("https://", "http://")):
        return short_hash("url", canonical)
    if guid.strip():
        return short_hash("guid", guid.strip())
    return short_hash("text", fallback)


def content_hash(title: str, text: str) -> str:
    """Hash of what an article says; a changed hash under the same id is an update."""
    return short_hash(squash(title, lines=False), squash(text, lines=False), length=12)
