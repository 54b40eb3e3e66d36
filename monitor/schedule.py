"""When to poll a feed next: a pure function of its state and the clock.

Kept free of I/O so every rule (intervals, back-off, clamping) is tested with plain values.
"""

from __future__ import annotations

import random

MAX_BACKOFF_S = 6 * 3600.0


def next_poll(now: float, interval_s: float, consecutive_errors: int, *, jitter: float = 0.1, rng: random.Random | None = None) -> float:
    """Unix time of the next poll: the interval after success, doubling per consecutive error.

    Jitter spreads feeds that share an interval so they do not all fire in one burst.
    """
    delay = interval_s
    if consecutive_errors:
        delay = min(MAX_BACKOFF_S, interval_s * 2 ** min(consecutive_errors, 16))
    spread = (rng or random).uniform(-jitter, jitter) * delay
    return now + max(1.0, delay + spread)
