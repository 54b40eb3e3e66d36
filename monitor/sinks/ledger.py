"""The delivery ledger's entries: what each (alert, sink) came to, and when they expire.

``"{alert id}|{sink}"`` → ``{"state": "delivered"|"dead"|"below_min_severity", "at", "ref"}``,
kept in a Faust table. An entry only has to outlive every copy of its alert the worker can
still read (a restart or a rebalance re-reads the alerts topic), so entries older than
``ledger_retention_s`` are deleted; without that the table and its changelog grow by one
entry per alert and sink for as long as the daemon runs.

Faust keeps a table's entries per partition: a read sees only the partition of the event
being handled, and a deletion goes to that partition's changelog. So each partition is
pruned while its own event is handled (a *prune* task on the co-partitioned
delivery-retries topic), and only the entries that partition itself holds are deleted: a
deletion made from another partition would leave the entry in its changelog, to come back
at the next recovery. (Faust's memory store is one dict, so there a read sees every
partition and one partition's prune deletes every expired entry; an entry the next
recovery brings back is expired, and goes again at the next round.)
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

DELIVERED = "delivered"
DEAD = "dead"
#: The alert's severity is below the sink's ``min_severity``: never sent, never dead-lettered.
BELOW_MIN_SEVERITY = "below_min_severity"


def ledger_key(alert_id: str, sink_name: str) -> str:
    return f"{alert_id}|{sink_name}"


def ledger_state(value: Any) -> str | None:
    """``delivered``, ``dead``, ``below_min_severity`` or None; a bare timestamp (the spine's
    format) is delivered."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("state", DELIVERED)
    return DELIVERED


def entry(state: str, at: float, ref: str | None = None) -> dict[str, Any]:
    return {"state": state, "at": at, "ref": ref}


def written_at(value: Any) -> float | None:
    """When an entry was written: its ``at``, or the bare timestamp of the spine's format."""
    raw = value.get("at") if isinstance(value, dict) else value
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        return None  # no readable time: kept, never guessed old
    try:
        return float(raw)
    except ValueError:
        return None


def expired(items: Iterable[tuple[str, Any]], cutoff: float) -> list[str]:
    """Keys of the entries written before ``cutoff``."""
    return [key for key, value in items if (at := written_at(value)) is not None and at < cutoff]


def prune(ledger: MutableMapping, cutoff: float) -> tuple[int, int]:
    """Delete the entries older than ``cutoff`` that the current partition holds.

    Listing a Faust table walks every partition the worker owns; ``ledger.get`` inside an
    event reads the event's partition only, so it tells the entries this partition holds
    from the others' (and points Faust's deletion at this partition's store). Returns
    (entries deleted, entries listed).
    """
    items = list(ledger.items())
    deleted = 0
    for key in expired(items, cutoff):
        if ledger.get(key) is not None:
            del ledger[key]
            deleted += 1
    return deleted, len(items)
