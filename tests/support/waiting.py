"""Waiting for a condition in an integration test, and the webhook secret the tests sign with."""

from __future__ import annotations

import time

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def wait_for(condition, timeout_s: float, what) -> None:
    """Poll ``condition``; ``what`` (a string or a callable giving one) explains a timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        time.sleep(0.1)
