"""Analysts' judgements as rows of the labels format (``eval/labels.csv``'s columns).

Only judgements about relevance become labels: ``relevant`` (1) and ``not_relevant`` (0),
about the article that raised the judged alert; ``wrong_story`` keeps the story the
analyst named in ``story``; mutes say nothing about relevance and are left out. The
``split`` is ``feedback`` so the rows never mix into ``dev`` or ``test`` unnoticed.
"""

from __future__ import annotations

import csv
import json
from typing import TextIO

from monitor.console import queries
from monitor.console.store import ReadModel

COLUMNS = ("file", "id", "relevant", "topics", "story", "split", "note", "drawn")
LABELLED = {"relevant": "1", "not_relevant": "0", "wrong_story": "1"}


def label_rows(model: ReadModel) -> list[dict[str, str]]:
    """The latest judgement of each alert, as label rows."""
    latest: dict[str, dict] = {}
    for row in queries.feedback_rows(model):
        if row["verdict"] in LABELLED:
            latest[row["alert_id"] or row["article_id"] or row["story_id"]] = row
    out = []
    for row in latest.values():
        topics = json.loads(row["alert_topics"]) if row["alert_topics"] else []
        out.append(
            {
                "file": "feedback",
                "id": row["article_id"] or row["alert_article"] or row["alert_id"] or "",
                "relevant": LABELLED[row["verdict"]],
                "topics": ";".join(topics) if row["verdict"] != "not_relevant" else "",
                "story": row["note"] if row["verdict"] == "wrong_story" else row["story_id"] or "",
                "split": "feedback",
                "note": f"{row['verdict']} on {row['created_at']}: {row['headline'] or ''}".strip(),
                "drawn": "feedback",
            }
        )
    return out


def write_labels(model: ReadModel, out: TextIO) -> int:
    rows = label_rows(model)
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return len(rows)
