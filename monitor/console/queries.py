"""What the pages ask the read model: alerts with filters, a story, activity by day, health.

Plain functions of a ReadModel returning dicts and lists for templates; every value that
came from a feed stays a plain string here, and the templates escape it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from monitor.console.store import ReadModel

PAGE_SIZE = 100
#: A story page lists this many of its latest articles: a story re-reported for weeks can
#: hold thousands. Its count and its chart cover them all.
STORY_ARTICLES = 300
SEVERITIES = ("high", "medium", "low")


@dataclass(frozen=True)
class AlertFilter:
    """The alerts page's filters, as read from its query string (all optional)."""

    topic: str = ""
    actor: str = ""
    severity: str = ""
    since: str = ""  # YYYY-MM-DD
    until: str = ""
    text: str = ""

    @classmethod
    def from_query(cls, params) -> AlertFilter:
        def field(name: str, limit: int = 200) -> str:
            return str(params.get(name, "")).strip()[:limit]

        dates = [value if _is_day(value) else "" for value in (field("since", 10), field("until", 10))]
        return cls(field("topic", 64), field("actor", 64), field("severity", 16), dates[0], dates[1], field("q"))


def _is_day(value: str) -> bool:
    # Only YYYY-MM-DD: fromisoformat also takes "20240101" and "2024-W01-1", which would then
    # be compared as text against the stored days and match nothing.
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _alert(row) -> dict[str, Any]:
    record = json.loads(row["record"])
    if "story_corroboration" in row.keys() and row["story_corroboration"]:
        # Re-reports raise no alert: the story's corroboration has grown since this alert.
        record["corroboration"] = max(record.get("corroboration", 1), row["story_corroboration"])
    return {
        **record,
        "seq": row["seq"],
        "first_source": row["first_source"],
        "modalities": sorted({claim.get("modality", "") for claim in record.get("claims", [])} - {""}),
    }


def alerts(
    model: ReadModel, where: AlertFilter = AlertFilter(), *, after: int = 0, limit: int = PAGE_SIZE, oldest_first: bool = False
) -> list[dict]:
    """Alerts newest first (by arrival), filtered; ``after`` keeps those that came later than it.

    ``oldest_first`` gives the ``limit`` alerts right after ``after`` instead of the newest: a
    reader that follows the stream page by page then skips none of a burst.
    """
    clauses: list[str] = ["seq > ?"]
    params: list[object] = [after]
    if where.topic:
        clauses.append("EXISTS (SELECT 1 FROM json_each(alerts.topics) WHERE value = ?)")
        params.append(where.topic)
    if where.actor:
        clauses.append("EXISTS (SELECT 1 FROM json_each(alerts.actors) WHERE value = ?)")
        params.append(where.actor)
    if where.severity:
        clauses.append("severity = ?")
        params.append(where.severity)
    if where.since:
        clauses.append("day >= ?")
        params.append(where.since)
    if where.until:
        clauses.append("day <= ?")
        params.append(where.until)
    if where.text:
        if model.fts:
            clauses.append("id IN (SELECT alert_id FROM alert_text WHERE alert_text MATCH ?)")
            params.append(fts_phrase(where.text))
        else:
            # The same words as FTS, each in the headline or an evidence sentence, never in the
            # record's JSON keys; "%" and "_" typed by an analyst are characters, not wildcards.
            words = search_words(where.text)
            if not words:
                clauses.append("0")  # as FTS: no word, no match
            for word in words:
                clauses.append(
                    "(headline LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM json_each(alerts.record, '$.evidence') e"
                    " WHERE json_extract(e.value, '$.sentence') LIKE ? ESCAPE '\\'))"
                )
                params += [f"%{like_escaped(word)}%"] * 2
    sql = (
        "SELECT *, (SELECT MAX(json_extract(d.record, '$.corroboration')) FROM decisions d WHERE d.story = alerts.story_id)"
        f" AS story_corroboration FROM alerts WHERE {' AND '.join(clauses)}"
        f" ORDER BY seq {'ASC' if oldest_first else 'DESC'} LIMIT ?"
    )
    return [_alert(row) for row in model.query(sql, [*params, limit])]


def search_words(text: str) -> list[str]:
    """The words of the search box: query syntax (quotes, operators, wildcards) is dropped."""
    return re.findall(r"\w+", text)


def fts_phrase(text: str) -> str:
    """The analyst's words as FTS5 terms that must all appear (no query syntax: a quote or
    an operator in the search box is a word, never an error)."""
    return " ".join('"' + word + '"' for word in search_words(text)) or '""'


def like_escaped(word: str) -> str:
    r"""``word`` matched literally by ``LIKE ... ESCAPE '\'``."""
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def choices(model: ReadModel) -> dict[str, list[str]]:
    """The values the filter menus offer: topics and actors seen in alerts."""
    topics = model.query("SELECT DISTINCT value FROM alerts, json_each(alerts.topics) ORDER BY value")
    actors = model.query("SELECT DISTINCT value FROM alerts, json_each(alerts.actors) ORDER BY value")
    return {"topics": [r[0] for r in topics], "actors": [r[0] for r in actors], "severities": list(SEVERITIES)}


def story(model: ReadModel, story_id: str) -> dict | None:
    """A story's alerts and articles in time order, with its feedback; None when unknown."""
    alert_rows = [
        _alert(row) for row in model.query("SELECT * FROM alerts WHERE story_id = ? ORDER BY created_at, seq", [story_id])
    ]
    articles = [
        {**json.loads(row["record"]), "seen_at": row["seen_at"], "day": row["day"]}
        for row in model.query(
            "SELECT * FROM (SELECT * FROM decisions WHERE story = ? ORDER BY seen_at DESC, id DESC LIMIT ?) ORDER BY seen_at, id",
            [story_id, STORY_ARTICLES],
        )
    ]
    if not alert_rows and not articles:
        return None
    feedback = [
        dict(row) for row in model.query("SELECT * FROM feedback WHERE story_id = ? ORDER BY created_at, rowid", [story_id])
    ]
    timeline = sorted(
        [("alert", a.get("created_at") or "", a) for a in alert_rows] + [("article", a["seen_at"], a) for a in articles],
        key=lambda item: item[1],
    )
    per_day = {
        row[0]: row[1] for row in model.query("SELECT day, COUNT(*) FROM decisions WHERE story = ? GROUP BY day", [story_id])
    }
    headline = alert_rows[0]["headline"] if alert_rows else articles[0]["title"]
    return {
        "id": story_id,
        "headline": headline,
        "alerts": alert_rows,
        "articles": articles,
        "articles_total": sum(per_day.values()),
        "timeline": timeline,
        "per_day": sorted(per_day.items()),
        "feedback": feedback,
        "muted": any(item["verdict"] == "mute" for item in feedback),
    }


def activity(model: ReadModel, days: int = 90, today: date | None = None) -> dict:
    """Relevant articles and alerts per day by topic over ``days``, and the near misses."""
    today = today or datetime.now(UTC).date()
    start = (today - timedelta(days=days - 1)).isoformat()
    relevant = model.query(
        "SELECT day, value AS topic, COUNT(*) FROM decisions, json_each(decisions.topics)"
        " WHERE relevant = 1 AND day >= ? GROUP BY day, value",
        [start],
    )
    alerted = model.query(
        "SELECT day, value AS topic, COUNT(*) FROM alerts, json_each(alerts.topics) WHERE day >= ? GROUP BY day, value", [start]
    )
    near = model.query(
        "SELECT * FROM decisions WHERE relevant = 0 AND day >= ?"
        " AND EXISTS (SELECT 1 FROM json_each(decisions.actors) WHERE value = 'RUS')"
        " AND EXISTS (SELECT 1 FROM json_each(decisions.actors) WHERE value = 'CHN')"
        " ORDER BY seen_at DESC LIMIT ?",
        [start, PAGE_SIZE],
    )
    series: dict[str, dict[str, list[tuple[str, int]]]] = {}
    for kind, rows in (("articles", relevant), ("alerts", alerted)):
        for day, topic, count in rows:
            series.setdefault(topic, {"articles": [], "alerts": []})[kind].append((day, count))
    return {
        "start": start,
        "end": today.isoformat(),
        "days": days,
        "series": dict(sorted(series.items())),
        "near_misses": [{**json.loads(row["record"]), "seen_at": row["seen_at"]} for row in near],
    }


def last_alert(model: ReadModel) -> dict | None:
    rows = model.query("SELECT * FROM alerts ORDER BY seq DESC LIMIT 1")
    return _alert(rows[0]) if rows else None


def counts(model: ReadModel) -> dict[str, int]:
    """Rows held, for the health page."""
    return {
        table: model.query(f"SELECT COUNT(*) FROM {table}")[0][0]  # fixed table names, never input
        for table in ("alerts", "decisions", "feedback")
    }


def feeds(model: ReadModel) -> list[dict]:
    """Each feed's last poll, failing feeds first (for the health page)."""
    rows = model.query("SELECT * FROM feeds ORDER BY ok, consecutive_errors DESC, feed")
    return [dict(row) for row in rows]


def feedback_rows(model: ReadModel) -> list[dict]:
    """Every judgement with what it judged, oldest first (for ``newsmon feedback export``)."""
    rows = model.query(
        "SELECT f.*, a.headline, a.topics AS alert_topics, a.article_id AS alert_article"
        " FROM feedback f LEFT JOIN (SELECT id, headline, topics, json_extract(record, '$.article_id') AS article_id FROM alerts) a"
        " ON a.id = f.alert_id ORDER BY f.created_at, f.rowid"
    )
    return [dict(row) for row in rows]
