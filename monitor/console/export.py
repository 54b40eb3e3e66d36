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
    """The latest judgement of each alert, as label rows.

    Whether the alert was right comes from its latest *relevant* / *not relevant*, as on the
    precision page; a *wrong story* says only where it belongs (its story column), so "not
    relevant" then "wrong story" stays not relevant. An alert judged only "wrong story" is a
    relevant article in another story. A judgement naming no article or alert (a story
    without alerts) cannot join the labels and is left out.
    """
    relevance: dict[str, dict] = {}  # the latest relevant / not relevant of each alert
    moved: dict[str, dict] = {}  # the latest wrong story of each alert
    for row in queries.feedback_rows(model):
        if row["verdict"] not in LABELLED or not (row["article_id"] or row["alert_article"] or row["alert_id"]):
            continue
        key = row["alert_id"] or row["article_id"]
        (moved if row["verdict"] == "wrong_story" else relevance)[key] = row
    out = []
    for key in dict.fromkeys([*relevance, *moved]):
        judged, story_row = relevance.get(key), moved.get(key)
        row = judged or moved[key]  # every key came from one of the two
        relevant = LABELLED[row["verdict"]]
        topics = json.loads(row["alert_topics"]) if row["alert_topics"] else []
        notes = "; ".join(f"{r['verdict']} on {r['created_at']}" for r in (judged, story_row) if r is not None)
        out.append(
            {
                "file": "feedback",
                "id": row["article_id"] or row["alert_article"] or row["alert_id"],
                "relevant": relevant,
                "topics": ";".join(topics) if relevant == "1" else "",
                "story": story_row["note"] if story_row is not None else row["story_id"] or "",
                "split": "feedback",
                "note": f"{notes}: {row['headline'] or ''}".strip(),
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
