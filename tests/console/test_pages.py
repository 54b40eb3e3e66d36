"""The console's pages, rendered by the real app on a real SQLite read model."""

from __future__ import annotations

import re

import pytest

from monitor.console import queries
from monitor.console.security import CSP
from monitor.console.store import ReadModel
from tests.support.console import near_miss, story_records


def test_alerts_page_lists_alerts_newest_first_with_their_fields(client):
    page = client.get("/")
    assert page.status_code == 200
    rows = re.findall(r'<tr class="alert sev-(\w+)" data-seq="(\d+)"', page.text)
    assert [sev for sev, _ in rows] == ["high", "medium"], "the escalation arrived last and is shown first"
    assert "China sends drones to Russia, officials say" in page.text
    assert "Wire One" in page.text and "military_aid" in page.text and "CHN, RUS" in page.text
    assert "asserted" in page.text, "claim modality is shown"
    assert page.text.count('<td class="num">2</td>') == 2, "outlets: the story's corroboration now, not at alert time"


def test_alerts_filters_and_full_text_search(client):
    assert client.get("/?severity=high").text.count('class="alert ') == 1
    assert client.get("/?topic=sanctions").text.count('class="alert ') == 0
    assert client.get("/?actor=CHN&since=2026-11-21").text.count('class="alert ') == 1
    assert client.get("/?q=drones+russia").text.count('class="alert ') == 2, "evidence and headline are searched"
    assert client.get("/?q=submarines").text.count('class="alert ') == 0
    # Search syntax typed by an analyst is words, never an SQL or FTS error.
    assert client.get('/?q="(NEAR OR*').status_code == 200


@pytest.mark.parametrize("fts", [True, False], ids=["fts5", "like-fallback"])
def test_search_means_the_same_words_with_or_without_fts5(settings, fts):
    """A SQLite without FTS5 falls back to LIKE: it must find the same alerts, treat "_" and
    "%" as characters, and never match the record's JSON keys."""
    model = ReadModel(settings.data_dir / f"search-{fts}.sqlite3")
    model.fts = model.fts and fts
    alerts, decisions = story_records()
    model.store(alerts, [*decisions, near_miss()])
    try:
        found = {
            q: len(queries.alerts(model, queries.AlertFilter(text=q)))
            for q in ("drones russia", "submarines", "dro_es", "sentence", "((")
        }
    finally:
        model.close()
    assert found == {"drones russia": 2, "submarines": 0, "dro_es": 0, "sentence": 0, "((": 0}


def test_story_page_shows_timeline_outlets_claims_chart_and_why(client):
    page = client.get("/story/story-a").text
    assert page.index("Wire One") < page.index("Paper Two"), "timeline in time order"
    assert "<em>escalation</em>" in page and "<em>new</em>" in page
    assert '<mark class="actor" title="CHN">China</mark>' in page
    assert '<mark class="action" title="provide">sent</mark>' in page
    assert page.count('<rect class="articles"') == 2, "one bar per day with articles"
    assert "rule <code>pair-sentence-trigger</code>" in page
    assert client.get("/story/unknown").status_code == 404


def test_activity_page_charts_topics_and_lists_near_misses(client):
    page = client.get("/activity").text
    assert "military aid" in page
    assert '<rect class="alerts"' in page and '<rect class="articles"' in page
    assert "Xi and Putin attend a summit" in page, "both sides named, judged not relevant"


def test_health_page_shows_counts_and_last_alert(client):
    page = client.get("/health").text
    assert '<td id="count-alerts">2</td>' in page
    assert "SQLite FTS5" in page
    assert re.search(r'<td id="decisions-pruned">0 since the console started \(those older than 120 days', page)
    assert client.get("/healthz").text == "ok"


def test_every_response_carries_the_strict_policy(client):
    for path in ("/", "/story/story-a", "/activity", "/health", "/static/console.js", "/nowhere"):
        response = client.get(path)
        assert response.headers["content-security-policy"] == CSP
        assert "default-src 'none'" in CSP and "script-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
        assert response.headers["x-content-type-options"] == "nosniff"


def test_pages_hold_no_inline_script_or_style(client):
    for path in ("/", "/story/story-a", "/activity", "/health"):
        page = client.get(path).text
        assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/console.js" defer>']
        assert "<style" not in page and " style=" not in page
        assert re.search(r"<[^>]+\son[a-z]+=", page) is None, "no inline event handler"


def test_static_files_stay_inside_the_package(client):
    assert client.get("/static/../store.py").status_code == 404
    assert client.get("/static/%2e%2e/store.py").status_code == 404
    assert client.get("/static/console.css").status_code == 200


def test_precision_counts_the_latest_judgement_of_each_alert_per_topic_and_rule(client, filled):
    from datetime import timedelta

    from monitor.console.precision import format_precision, measure
    from monitor.models import Feedback, utcnow

    now = utcnow()
    judged = [
        ("story-a-new", "not_relevant", now - timedelta(hours=3)),
        ("story-a-new", "relevant", now - timedelta(hours=2)),  # the analyst changed their mind
        ("story-a-esc", "not_relevant", now - timedelta(hours=1)),
        ("story-a-esc", "mute", now),  # says nothing about relevance
        ("story-a-new", "relevant", now - timedelta(days=40)),  # outside the window
    ]
    filled.store(
        feedback=[
            Feedback(id=f"f{n}", verdict=verdict, story_id="story-a", alert_id=alert, created_at=when)
            for n, (alert, verdict, when) in enumerate(judged)
        ]
    )
    result = measure(filled, 30)
    assert (result.overall.right, result.overall.wrong, result.overall.precision) == (1, 1, 0.5)
    assert result.by_topic["military_aid"].judged == 2 and result.by_rule["pair-sentence-trigger"].precision == 0.5
    assert "topic military_aid" in format_precision(result)
    page = client.get("/precision?days=30").text
    assert '<th>all alerts</th><td class="num">0.50</td>' in page
    assert client.get("/precision?days=<script>").status_code == 200


def test_a_long_story_lists_its_latest_articles_but_counts_and_charts_them_all(client, monkeypatch):
    monkeypatch.setattr(queries, "STORY_ARTICLES", 1)
    page = client.get("/story/story-a").text
    assert "2 articles" in page and "the latest 1 of 2" in page
    outlets = page[page.index('<ul class="outlets">') :]
    outlets = outlets[: outlets.index("</ul>")]
    assert outlets.count("<li>") == 1 and "Paper Two" in outlets, "the latest article is the one listed"
    assert page.count('<rect class="articles"') == 2, "the chart still has both days"
