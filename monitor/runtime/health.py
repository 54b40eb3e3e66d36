"""Whether a process is alive (its event loop still turns) and ready (it can take work).

A liveness probe on ``/metrics`` alone would pass while the event loop is stuck, because
the metrics server runs in its own thread. So the loop beats a heartbeat on a timer and
``/healthz`` fails once the last beat is too old; ``/readyz`` also needs the process to
have said it is ready (the worker: consumer group joined and spaCy loaded).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

#: Seconds between heartbeats of an event loop.
BEAT_INTERVAL_S = 5.0
#: A loop that has not beaten for this long is stuck (NLP runs in a process pool, polls
#: are async: nothing legitimate holds the loop this long).
STALE_AFTER_S = 60.0


#: The line a worker prints on its real stdout once it can take articles (the supervisor and
#: tests wait for it).
WORKER_READY = "newsmon worker ready"


class Health:
    """Heartbeat and readiness of one process, read from the metrics server's thread."""

    def __init__(self, stale_after_s: float = STALE_AFTER_S, clock: Callable[[], float] = time.monotonic):
        self._stale_after_s = stale_after_s
        self._clock = clock
        self._last_beat: float | None = None
        self._ready = False
        self._lock = threading.Lock()

    def beat(self) -> None:
        with self._lock:
            self._last_beat = self._clock()

    def set_ready(self, ready: bool = True) -> None:
        with self._lock:
            self._ready = ready

    def live(self) -> tuple[bool, str]:
        """Alive unless the loop has beaten before and then stopped (starting counts as alive)."""
        with self._lock:
            last = self._last_beat
        if last is None:
            return True, "starting"
        age = self._clock() - last
        if age > self._stale_after_s:
            return False, f"event loop silent for {age:.0f} s"
        return True, f"last heartbeat {age:.0f} s ago"

    def ready(self) -> tuple[bool, str]:
        with self._lock:
            ready = self._ready
        if not ready:
            return False, "not ready yet"
        return self.live()


async def beat_forever(health: Health, interval_s: float = BEAT_INTERVAL_S) -> None:
    """Beat ``health`` from the running event loop until cancelled."""
    while True:
        health.beat()
        await asyncio.sleep(interval_s)
