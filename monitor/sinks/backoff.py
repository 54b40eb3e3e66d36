"""When to try a failed delivery again, and when to give up (pure functions).

Waits follow the sink's ``retry_delays_s`` (5 s, 5 min, 30 min, 2 h, 5 h, 10 h by
default), each jittered by ±``retry_jitter`` so many alerts failing together do not
retry together. A ``Retry-After`` from the endpoint wins when it is longer. After the
last wait the next failure dead-letters the alert.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Retry:
    not_before: float
    attempt: int


@dataclass(frozen=True)
class GiveUp:
    reason: str
    attempt: int


def backoff_s(attempt: int, delays: Sequence[float], jitter: float, rand: Callable[[], float] = random.random) -> float:
    """The wait after failed attempt number ``attempt`` (1-based), jittered."""
    base = delays[min(attempt, len(delays)) - 1]
    return max(0.0, base * (1 + jitter * (2 * rand() - 1)))


def after_failure(
    attempt: int,
    now: float,
    *,
    retryable: bool,
    retry_after_s: float | None,
    delays: Sequence[float],
    jitter: float,
    rand: Callable[[], float] = random.random,
) -> Retry | GiveUp:
    """What to do after attempt number ``attempt`` failed."""
    if not retryable:
        return GiveUp("rejected", attempt)
    if attempt > len(delays):
        return GiveUp("retries_exhausted", attempt)
    wait = backoff_s(attempt, delays, jitter, rand)
    if retry_after_s is not None:
        wait = max(wait, retry_after_s)
    return Retry(now + wait, attempt)


def digest_due(now: float, minutes: float) -> float:
    """End of the digest window ``now`` falls in: windows are aligned to the clock, so
    every worker and every restart agrees on them."""
    window = minutes * 60.0
    return (math.floor(now / window) + 1) * window


def partition_for_sink(sink_name: str, partitions: int) -> int:
    """The one partition that collects a digest sink's alerts, so a window is one message."""
    return zlib.crc32(sink_name.encode()) % partitions
