"""Small bar charts as geometry for an inline SVG the template draws (no script, no image).

Pure functions: counts per day in, rectangles out. The template writes them as ``<rect>``
elements with presentation attributes, which the Content-Security-Policy allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: str
    count: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    peak: int
    first: str
    last: str


def days_between(first: str, last: str) -> list[str]:
    """Every day from ``first`` to ``last`` (ISO dates), both included."""
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def bar_chart(counts: dict[str, int], days: list[str], *, width: int = 360, height: int = 60) -> Chart:
    """One bar per day of ``days`` (zero-height where ``counts`` has none), scaled to the peak."""
    peak = max((counts.get(day, 0) for day in days), default=0)
    step = width / max(1, len(days))
    bars = []
    for n, day in enumerate(days):
        count = counts.get(day, 0)
        tall = 0.0 if not peak else round((height - 2) * count / peak, 2)
        bars.append(Bar(round(n * step, 2), round(height - tall, 2), round(max(1.0, step - 1), 2), tall, day, count))
    return Chart(width, height, bars, peak, days[0] if days else "", days[-1] if days else "")
