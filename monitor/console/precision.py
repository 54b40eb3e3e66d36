"""Measured precision: of the alerts an analyst judged, how many were right, per topic and rule.

The latest ``relevant`` / ``not relevant`` judgement of each alert within the window counts;
``wrong story`` and mutes say nothing about whether the alert was right and are left out.
Shown on the console's precision page and by ``newsmon eval --feedback DAYS``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from monitor.console.store import ReadModel, iso


@dataclass
class Tally:
    right: int = 0
    wrong: int = 0

    @property
    def judged(self) -> int:
        return self.right + self.wrong

    @property
    def precision(self) -> float | None:
        return self.right / self.judged if self.judged else None


@dataclass
class Precision:
    days: int
    overall: Tally = field(default_factory=Tally)
    by_topic: dict[str, Tally] = field(default_factory=dict)
    by_rule: dict[str, Tally] = field(default_factory=dict)


def measure(model: ReadModel, days: int = 30, now: datetime | None = None) -> Precision:
    since = iso((now or datetime.now(UTC)) - timedelta(days=days))
    rows = model.query(
        "SELECT f.alert_id, f.verdict, a.topics, a.rule FROM feedback f JOIN alerts a ON a.id = f.alert_id"
        " WHERE f.verdict IN ('relevant', 'not_relevant') AND f.created_at >= ? ORDER BY f.created_at, f.rowid",
        [since],
    )
    latest = {row["alert_id"]: row for row in rows}
    result = Precision(days)
    for row in latest.values():
        right = row["verdict"] == "relevant"
        tallies = [result.overall, result.by_rule.setdefault(row["rule"] or "-", Tally())]
        tallies += [result.by_topic.setdefault(topic, Tally()) for topic in json.loads(row["topics"] or "[]")]
        for tally in tallies:
            tally.right += right
            tally.wrong += not right
    return result


def format_precision(result: Precision) -> str:
    def line(name: str, tally: Tally) -> str:
        share = "-" if tally.precision is None else f"{tally.precision:.2f}"
        return f"  {name:<28} {share:>9} {tally.right:>6} {tally.wrong:>6}"

    out = [f"precision of judged alerts, last {result.days} days", f"  {'':<28} {'precision':>9} {'right':>6} {'wrong':>6}"]
    out.append(line("all", result.overall))
    out += [line(f"topic {name}", tally) for name, tally in sorted(result.by_topic.items())]
    out += [line(f"rule {name}", tally) for name, tally in sorted(result.by_rule.items())]
    return "\n".join(out)
