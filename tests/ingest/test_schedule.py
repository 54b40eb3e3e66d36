"""Scheduling rules as plain values: hints, rate, back-off, broken and gone feeds, clamps, jitter."""

import random
from email.utils import formatdate

import pytest

from monitor.ingest.schedule import (
    ACTIVE,
    BROKEN,
    GONE,
    WEEK_S,
    ScheduleLimits,
    Signals,
    cache_lifetime_s,
    jittered,
    next_delay,
    plan_next,
    weekly_items,
)
from monitor.net.retry_after import retry_after_s

NOW = 1_700_000_000.0
POLICY = ScheduleLimits(
    min_interval_s=60,
    max_interval_s=86_400,
    jitter=0.1,
    max_backoff_s=21_600,
    checks_per_item=24,
    broken_after=3,
    broken_retry_s=43_200,
)


def plan(**signals):
    return plan_next(Signals(**{"interval_s": 600, **signals}), POLICY)


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_s("120", NOW) == 120
    assert retry_after_s(formatdate(NOW + 300, usegmt=True), NOW) == pytest.approx(300, abs=1)
    assert retry_after_s(formatdate(NOW - 300, usegmt=True), NOW) == 0
    assert retry_after_s("soon", NOW) is None and retry_after_s(None, NOW) is None


def test_cache_lifetime_from_max_age_then_expires_and_none_when_uncacheable():
    assert cache_lifetime_s({"cache-control": "public, max-age=1800"}, NOW) == 1800
    assert cache_lifetime_s({"cache-control": "s-maxage=900, max-age=60"}, NOW) == 900
    assert cache_lifetime_s({"expires": formatdate(NOW + 3600, usegmt=True)}, NOW) == pytest.approx(3600, abs=1)
    assert cache_lifetime_s({"cache-control": "no-cache, max-age=1800"}, NOW) is None
    assert cache_lifetime_s({"expires": "0"}, NOW) is None
    assert cache_lifetime_s({}, NOW) is None


def test_the_configured_interval_applies_when_nothing_else_is_known():
    p = plan()
    assert (p.delay_s, p.status, p.reason) == (600, ACTIVE, "interval")


@pytest.mark.parametrize(
    "hint, value, reason",
    [("ttl_s", 3600.0, "<ttl>"), ("cache_lifetime_s", 1800.0, "cache lifetime"), ("retry_after_s", 7200.0, "Retry-After")],
)
def test_a_publisher_hint_longer_than_the_interval_is_respected(hint, value, reason):
    p = plan(**{hint: value})
    assert (p.delay_s, p.reason) == (value, reason)


def test_a_hint_shorter_than_the_interval_does_not_speed_polling_up():
    assert plan(ttl_s=60.0, cache_lifetime_s=30.0).delay_s == 600


def test_hints_are_clamped_to_the_maximum():
    p = plan(retry_after_s=10 * 86_400.0)
    assert p.delay_s == 86_400 and p.reason == "Retry-After (clamped)"


def test_the_minimum_interval_wins_over_a_shorter_configured_one():
    assert plan(interval_s=5).delay_s == 60


def test_quiet_feeds_are_polled_less_often_busy_ones_at_their_interval():
    assert plan(items_per_week=1).delay_s == WEEK_S / 24  # 7 h
    assert plan(items_per_week=14).delay_s == pytest.approx(WEEK_S / (14 * 24))  # 30 min
    assert plan(items_per_week=500).delay_s == 600  # never faster than configured
    assert plan(items_per_week=0).delay_s == WEEK_S / 12  # nothing in a week: about twice a day


def test_errors_back_off_exponentially_up_to_the_cap():
    delays = [plan(outcome="network_error", consecutive_errors=n).delay_s for n in (1, 2, 3, 10)]
    assert delays == [1200, 2400, 4800, 21_600]


def test_a_429_waits_for_retry_after_even_when_back_off_is_shorter():
    p = plan(outcome="rate_limited", consecutive_errors=1, retry_after_s=5000.0)
    assert (p.delay_s, p.reason) == (5000, "Retry-After")


def test_repeated_parse_errors_mark_the_feed_broken_and_retry_rarely():
    assert plan(outcome="parse_error", consecutive_errors=2, parse_errors=2).status == ACTIVE
    broken = plan(outcome="parse_error", consecutive_errors=3, parse_errors=3)
    assert (broken.status, broken.delay_s) == (BROKEN, 43_200)
    assert plan(outcome="ok", parse_errors=0).status == ACTIVE  # one good parse heals it


def test_gone_stops_the_feed():
    assert plan(outcome="gone", consecutive_errors=1).status == GONE


def test_weekly_items_counts_the_last_week_only():
    times = [NOW - 60, NOW - 3 * 86_400, NOW - 8 * 86_400, NOW + 7 * 86_400]
    assert weekly_items(times, NOW) == 2


def test_jitter_spreads_within_bounds_and_is_reproducible():
    rng = random.Random(7)
    values = [jittered(600, 0.1, rng) for _ in range(1000)]
    assert 540 <= min(values) < 560 and 640 < max(values) <= 660
    assert jittered(600, 0.1, random.Random(1)) == jittered(600, 0.1, random.Random(1))


def test_the_jitter_never_brings_a_poll_before_the_publishers_hint():
    # One error at 600 s backs off to 1,200 s; the server asked for an hour.
    hinted = plan(outcome="rate_limited", consecutive_errors=1, retry_after_s=3600)
    assert (hinted.delay_s, hinted.not_before_s) == (3600, 3600)
    rng = random.Random(7)
    delays = [next_delay(hinted, 0.1, rng) for _ in range(500)]
    assert min(delays) >= 3600, "never sooner than Retry-After"
    assert max(delays) > 3600, "still spread later, so feeds sharing a hint do not fire together"


def test_without_a_hint_the_jitter_spreads_both_ways():
    steady = plan()
    assert steady.not_before_s == 0
    delays = [next_delay(steady, 0.1, random.Random(seed)) for seed in range(200)]
    assert min(delays) < 600 < max(delays)
