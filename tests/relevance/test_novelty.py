"""Novelty over stories: re-reports only corroborate, escalations alert, ids stay deterministic,
the seeds group as labelled in either order, and story state stays bounded."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest

from monitor.models import Article
from monitor.offline.replay import Replayer, replay
from monitor.relevance.decision import Rulebook, decide
from monitor.relevance.stories import JOIN_DUPLICATE, MAX_STORIES, StoryBook
from tests.support.paths import SEEDS

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared

WHEN = datetime(2022, 3, 14, 9, tzinfo=UTC)
ROME = " Jake Sullivan meets Yang Jiechi in Rome on Monday to discuss the request."


def article(ident, title, text, source="Wire A", hours=0.0):
    return Article(id=ident, title=title, text=text, source=source, published=WHEN + timedelta(hours=hours))


@pytest.fixture
def book():
    return StoryBook("CHN|RUS")


def run(tagger, book, *articles):
    policy = Rulebook(tagger.watchlist)
    return [decide(book, tagged, policy) for tagged in tagger.tag(list(articles))]


REQUEST = article(
    "a1",
    "Russia asked China for military equipment",
    "US officials say Russia asked China for military equipment and drones." + ROME,
)


def test_a_re_report_in_other_words_from_another_outlet_only_raises_corroboration(tagger, book):
    first, again = run(
        tagger,
        book,
        REQUEST,
        article(
            "b1",
            "Moscow sought Chinese drones, Washington says",
            "Washington says Moscow requested drones and military equipment from Beijing." + ROME,
            source="Wire B",
            hours=2,
        ),
    )
    assert first.decision.alert and first.alert.kind == "new"
    d = again.decision
    assert d.story == first.decision.story and d.relevant
    assert (d.alert, d.new_story, d.escalation, d.corroboration) == (False, False, False, 2)
    assert again.placement.how == "same_development"


def test_delivery_after_a_request_is_an_escalation_with_a_deterministic_id(tagger, book):
    delivery = article(
        "c1",
        "China sent drones to Russia after the request",
        "US officials say China has sent drones and artillery shells to Russia." + ROME,
        source="Wire C",
        hours=30,
    )
    first, escalated = run(tagger, book, REQUEST, delivery)
    d = escalated.decision
    assert d.story == first.decision.story
    assert (d.alert, d.escalation, d.new_story) == (True, True, False)
    alert = escalated.alert
    assert alert.kind == "escalation" and alert.updates == first.alert.id
    assert {(c.subject, c.action, c.object) for c in alert.claims} == {("CHN", "provide", "RUS")}
    assert alert.first_source == "Wire A" and alert.corroboration == 2 and alert.rule == "link-military-aid"
    assert "<<sent|provide>>" in alert.claims[0].marked
    # The same two articles on a fresh book give the same alert ids: sinks can dedupe.
    again = run(tagger, StoryBook("CHN|RUS"), REQUEST, delivery)
    assert [v.decision.alert_id for v in again] == [first.decision.alert_id, d.alert_id]


def test_a_threat_then_an_imposition_escalates_but_a_conditional_imposition_does_not(tagger, book):
    threat = article(
        "t1", "US warns China over Russia", "The US warned China of sanctions for helping Russia evade sanctions." + ROME
    )
    conditional = article(
        "t2",
        "US could sanction China over Russia",
        "If China helps Russia evade sanctions, the US will impose sanctions on Chinese banks." + ROME,
        hours=1,
    )
    imposed = article(
        "t3",
        "US sanctions Chinese banks over Russia",
        "The US imposed sanctions on Chinese banks for helping Russia evade sanctions." + ROME,
        hours=2,
    )
    first, maybe, real = run(tagger, book, threat, conditional, imposed)
    assert first.alert is not None and first.alert.kind == "new"
    assert maybe.decision.story == first.decision.story and not maybe.decision.alert
    assert real.decision.story == first.decision.story and real.decision.escalation
    assert ("USA", "impose_sanctions", "CHN") in [(c.subject, c.action, c.object) for c in real.alert.claims]


def test_reprocessing_an_escalating_article_resends_the_same_alert(tagger, book):
    delivery = article("c1", "China sent drones to Russia", "US officials say China has sent drones to Russia." + ROME, hours=3)
    _, escalated, again = run(tagger, book, REQUEST, delivery, delivery)
    assert not again.decision.alert
    assert again.resend is not None and again.resend.id == escalated.alert.id and again.resend.kind == "escalation"


def test_a_near_duplicate_with_another_title_joins_by_minhash(tagger, book):
    body = " ".join(
        f"Paragraph {i}: US officials say Russia asked China for military equipment, drones and ammunition." for i in range(12)
    )
    first, copy = run(
        tagger,
        book,
        article("n1", "Original headline", body),
        article("n2", "Completely different headline here", body + " Updated with comment.", source="Wire B"),
    )
    assert copy.placement.how == JOIN_DUPLICATE and copy.decision.story == first.decision.story
    assert not copy.decision.alert


def test_story_state_stays_bounded(tagger, book):
    """Every article rewrites its route's state to the changelog: stories and their fields are capped."""
    words = [
        f"{a}{b}"
        for a in ("zor", "quel", "mab", "tiv", "rosk", "pelu", "dran", "vok")
        for b in ("ana", "esh", "oth", "umi", "ilk", "arv", "eno", "ost")
    ]
    articles = [
        article(
            f"x{i}",
            f"{words[i]} talks",
            f"Putin and Xi discussed {words[i]} and {words[-i - 1]} in {words[(i * 7) % 64]}.",
            hours=i * 0.1,
        )
        for i in range(MAX_STORIES + 15)
    ]
    run(tagger, book, *articles)
    assert len(book.stories) == MAX_STORIES
    assert len(json.dumps(book.state())) < 2_000 * MAX_STORIES


@pytest.mark.parametrize("order", [("000", "001", "002", "003", "004"), ("004", "001", "003", "002", "000")])
def test_seeds_group_as_labelled_in_either_order(tagger, settings, order):
    """000 and 001: one story, exactly one alert between them; 002 and 004: one story; 004 no alert."""
    paths = [next(SEEDS.glob(f"{prefix}_*.txt")) for prefix in order]
    out = StringIO()
    replay(paths, Replayer(tagger, settings), out)
    rows = {row["id"][:3]: row for row in map(json.loads, out.getvalue().splitlines())}
    assert rows["000"]["story"] == rows["001"]["story"]
    assert rows["000"]["alert"] + rows["001"]["alert"] == 1
    assert rows["002"]["story"] == rows["004"]["story"] != rows["000"]["story"]
    assert rows["004"]["alert"] is False
    first = rows[next(p for p in order if p in ("000", "001"))]
    assert first["alert"] and first["new_story"] and first["claims"]
    assert {"subject", "action", "object", "topic", "modality", "cameo", "sentence"} <= set(first["claims"][0])


def test_story_state_written_by_the_first_version_still_loads_and_resends(tagger):
    """A worker upgraded over an existing changelog: old alert entries were id -> article id."""
    old = StoryBook("CHN|RUS")
    (first,) = run(tagger, old, REQUEST)
    state = old.state()
    for story in state["stories"]:
        story["alerts"] = {alert_id: raised["article"] for alert_id, raised in story["alerts"].items()}
        story["field_from_the_future"] = 1
    restored = StoryBook.from_state("CHN|RUS", state, window_s=7 * 86400)
    (again,) = run(tagger, restored, REQUEST)
    assert again.resend is not None and again.resend.id == first.alert.id
