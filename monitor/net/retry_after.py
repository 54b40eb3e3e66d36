"""``Retry-After`` (RFC 9110 §10.2.3): the one parser, for the poller and for the sinks.

Both a feed server and a webhook endpoint may ask us to wait, as delta-seconds ("120") or as
an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT"). A date in the past means "now" (0 s); anything
else unreadable means the header says nothing (None), and the caller's own back-off applies.
"""

from __future__ import annotations

import math
import time
from email.utils import parsedate_to_datetime


def http_date(value: str) -> float | None:
    """Unix time of an HTTP date (IMF-fixdate or the obsolete forms), or None."""
    try:
        return parsedate_to_datetime(value.strip()).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks us to wait: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        when = http_date(value)
        return None if when is None else max(0.0, when - (time.time() if now is None else now))
    return max(0.0, seconds) if math.isfinite(seconds) else None
