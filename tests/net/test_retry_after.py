"""The one Retry-After parser: what a feed server and a webhook endpoint may answer."""

from email.utils import formatdate

import pytest

from monitor.net.retry_after import retry_after_s

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("-5", 0.0),
        ("0", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_delta_seconds_and_garbage(value, seconds):
    assert retry_after_s(value, NOW) == seconds


def test_http_dates_count_from_now_and_the_past_means_now():
    assert retry_after_s(formatdate(NOW + 300, usegmt=True), NOW) == pytest.approx(300, abs=1)
    assert retry_after_s(formatdate(NOW - 300, usegmt=True), NOW) == 0.0
