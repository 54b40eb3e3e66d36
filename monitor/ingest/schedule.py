"""When to poll a feed next: a pure function of what the last poll told us and the clock.

Kept free of I/O so every rule is tested with plain values. The rules, after miniflux's
``ScheduleNextCheck`` (internal/model/feed.go) and its response handler:

* the configured interval, stretched for quiet feeds by the observed publishing rate
  (a feed with n items a week needs about ``week / (n × checks_per_item)``);
* never sooner than the feed's ``<ttl>``, ``Cache-Control: max-age``/``Expires`` or a
  ``Retry-After``;
* exponential back-off on consecutive errors;
* after N consecutive parse errors the feed is *broken* and retried rarely; a 410 Gone
  feed is not polled again until its configured URL changes;
* clamped to the configured minimum and maximum, then spread by jitter.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.net.retry_after import http_date

WEEK_S = 7 * 24 * 3600.0
ACTIVE, BROKEN, GONE = "active", "broken", "gone"
SUCCESS = ("ok", "not_modified")


@dataclass(frozen=True)
class ScheduleLimits:
    """The operator's bounds (from Settings)."""

    min_interval_s: float = 60.0
    max_interval_s: float = 24 * 3600.0
    jitter: float = 0.1
    max_backoff_s: float = 6 * 3600.0
    checks_per_item: float = 24.0
    broken_after: int = 10
    broken_retry_s: float = 24 * 3600.0

    @classmethod
    def from_settings(cls, settings) -> ScheduleLimits:
        return cls(
            min_interval_s=settings.poll_min_interval_s,
            max_interval_s=settings.poll_max_interval_s,
            jitter=settings.poll_jitter,
            max_backoff_s=settings.poll_max_backoff_s,
            checks_per_item=settings.poll_checks_per_item,
            broken_after=settings.broken_after_parse_errors,
            broken_retry_s=settings.broken_retry_s,
        )


@dataclass(frozen=True)
class Signals:
    """What is known about a feed after a poll."""

    interval_s: float
    outcome: str = "ok"
    consecutive_errors: int = 0
    parse_errors: int = 0
    retry_after_s: float | None = None
    cache_lifetime_s: float | None = None
    ttl_s: float | None = None
    items_per_week: int | None = None


@dataclass(frozen=True)
class Plan:
    delay_s: float
    status: str
    reason: str
    #: The publisher's own "not before" (Retry-After, ``<ttl>``, cache lifetime), clamped: the
    #: jitter may spread a poll later than this, never sooner.
    not_before_s: float = 0.0


def cache_lifetime_s(headers: Mapping[str, str], now: float) -> float | None:
    """How long the response says it stays fresh: ``max-age``, else ``Expires``."""
    control = headers.get("cache-control", "")
    directives = {}
    for part in control.split(","):
        name, _, value = part.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return None
    for name in ("s-maxage", "max-age"):
        value = directives.get(name, "")
        if value.isascii() and value.isdigit():  # "max-age=²" is a digit to isdigit, not to float
            return float(value)
    expires = headers.get("expires")
    if expires:
        when = http_date(expires)
        if when is not None and when > now:
            return when - now
    return None


def weekly_items(item_times: Sequence[float], now: float) -> int:
    """Items published within the last week (the observed publishing rate)."""
    return sum(1 for when in item_times if now - WEEK_S <= when <= now + 3600)


def plan_next(signals: Signals, policy: ScheduleLimits) -> Plan:
    """The delay before the next poll, before jitter, and the feed's status."""
    if signals.outcome == "gone":
        return Plan(policy.max_interval_s, GONE, "HTTP 410 Gone: not polled again until its URL changes")
    if signals.parse_errors >= policy.broken_after:
        return Plan(policy.broken_retry_s, BROKEN, f"{signals.parse_errors} consecutive parse errors")
    base = max(signals.interval_s, policy.min_interval_s)
    reason = "interval"
    if signals.outcome not in SUCCESS and signals.consecutive_errors:
        delay = min(policy.max_backoff_s, base * 2 ** min(signals.consecutive_errors, 20))
        reason = f"back-off after {signals.consecutive_errors} errors"
    else:
        delay = base
        if signals.items_per_week is not None:
            quiet = WEEK_S / (max(signals.items_per_week, 0.5) * policy.checks_per_item)
            if quiet > delay:
                delay, reason = quiet, f"{signals.items_per_week} items a week"
    # The publisher's own hints: never sooner than it asks.
    not_before = 0.0
    for hint, label in (
        (signals.retry_after_s, "Retry-After"),
        (signals.ttl_s, "<ttl>"),
        (signals.cache_lifetime_s, "cache lifetime"),
    ):
        if hint is not None:
            not_before = max(not_before, hint)
            if hint > delay:
                delay, reason = hint, label
    clamped = min(max(delay, policy.min_interval_s), policy.max_interval_s)
    if clamped != delay:
        reason += " (clamped)"
    return Plan(clamped, ACTIVE, reason, not_before_s=min(not_before, policy.max_interval_s))


def jittered(delay_s: float, jitter: float, rng: random.Random | None = None) -> float:
    """``delay_s`` spread by ±``jitter`` so feeds sharing an interval do not fire together."""
    return max(1.0, delay_s * (1 + (rng or random).uniform(-jitter, jitter)))


def next_delay(plan: Plan, jitter: float, rng: random.Random | None = None) -> float:
    """The delay actually slept: the plan's, jittered, but never before the publisher's hint."""
    return max(jittered(plan.delay_s, jitter, rng), plan.not_before_s)
