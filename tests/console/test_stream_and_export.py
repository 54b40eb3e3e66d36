"""The live stream after a burst, odd query values, and how judgements become labels."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from monitor.console.app import create_app
from monitor.console.export import label_rows, write_labels
from monitor.console.queries import AlertFilter
from monitor.models import Feedback, utcnow
from tests.support.console import story_records


def test_a_burst_of_250_alerts_reaches_the_live_stream_whole_and_in_order(settings, model):
    """The stream used to take the newest 100 after the last one sent and move past them, so
    the older alerts of a burst (a restart, a rebuild, a browser back from sleep) never came."""
    first = story_records()[0][0]
    burst = [first.derive(id=f"burst-{n:03d}", created_at=first.created_at + timedelta(seconds=n)) for n in range(250)]
    model.store(burst)
    app = create_app(settings, model)
    app.state.console.stream_s = 3.0  # the stream closes by itself; the browser would reconnect
    with TestClient(app, base_url="http://127.0.0.1:8090") as client:
        body = client.get("/events?after=0", headers={"accept": "text/event-stream"}).text
    ids = [int(line.removeprefix("id: ")) for line in body.splitlines() if line.startswith("id: ")]
    assert len(ids) == 250 and ids == sorted(ids), "every alert once, oldest first"


@pytest.mark.parametrize("odd", ["%C2%B2", "%D9%A3", "-1", "7.0", ""])
def test_odd_numbers_in_the_query_fall_back_to_the_default_instead_of_a_500(client, odd):
    """ "²" and "٣" are digits to str.isdigit, not to int()."""
    assert client.get(f"/precision?days={odd}").status_code == 200


def test_an_odd_last_event_id_starts_the_stream_from_the_beginning(settings, filled):
    app = create_app(settings, filled)
    app.state.console.stream_s = 0.6
    with TestClient(app, base_url="http://127.0.0.1:8090") as client:
        response = client.get("/events", headers={"accept": "text/event-stream", "last-event-id": "²".encode("latin-1")})
    assert response.status_code == 200 and response.text.count("event: alert") == 2


@pytest.mark.parametrize("day", ["20261120", "2026-W47-5", "2026-11", "2026-1-20"])
def test_a_date_filter_takes_only_year_month_day(day):
    """fromisoformat accepts "20261120", which then matched nothing against stored days."""
    assert AlertFilter.from_query({"since": day, "until": day}) == AlertFilter()
    assert AlertFilter.from_query({"since": "2026-11-20"}).since == "2026-11-20"


def judge(model, *verdicts, alert_id="story-a-new", note=""):
    """Judgements of one alert, all in the same second, in the order given."""
    now = utcnow().replace(microsecond=0)
    model.store(
        feedback=[
            Feedback(
                id=f"{n:02d}-{verdict}"[::-1], verdict=verdict, story_id="story-a", alert_id=alert_id, note=note, created_at=now
            )
            for n, verdict in enumerate(verdicts)
        ]
    )


def test_of_two_judgements_in_one_second_the_later_one_counts(filled):
    """Ties on the second were broken by the judgement's random id; now by arrival."""
    from monitor.console.precision import measure

    judge(filled, "not_relevant", "relevant")
    assert measure(filled, 30).overall.right == 1
    (row,) = label_rows(filled)
    assert row["relevant"] == "1"


def test_a_wrong_story_moves_an_alert_without_making_it_relevant(filled):
    judge(filled, "not_relevant", "wrong_story", note="story-b")
    (row,) = label_rows(filled)
    assert (row["id"], row["relevant"], row["story"], row["topics"]) == ("story-a-art1", "0", "story-b", "")
    assert "not_relevant on" in row["note"] and "wrong_story on" in row["note"]


def test_a_wrong_story_alone_is_a_relevant_article_of_the_other_story(filled):
    judge(filled, "wrong_story", note="story-b")
    (row,) = label_rows(filled)
    assert (row["relevant"], row["story"], row["topics"]) == ("1", "story-b", "military_aid")


def test_a_judgement_naming_no_article_or_alert_is_not_exported(filled):
    judge(filled, "relevant", alert_id="")
    out = io.StringIO()
    assert write_labels(filled, out) == 0
    assert out.getvalue().strip() == "file,id,relevant,topics,story,split,note,drawn"
