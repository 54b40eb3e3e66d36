"""The read model keeps what an analyst comes back to and drops, after the retention, the
decisions that nothing came of."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from monitor.console.follow import Follower
from monitor.models import Decision, Feedback
from tests.support.console import near_miss, story_records

OLD = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
TODAY = date(2026, 11, 30)


def ids(model) -> set[str]:
    return {row["id"] for row in model.query("SELECT id FROM decisions")}


def quiet_in_story(article_id: str, story: str) -> tuple[Decision, datetime]:
    """A not-relevant article placed in a story (a background piece of the same pair)."""
    return Decision(id=article_id, relevant=False, alert=False, story=story, actors=["CHN", "RUS"], title="Background"), OLD


def test_old_decisions_that_nothing_came_of_are_deleted_and_the_rest_kept(model):
    alerts, decisions = story_records(when=OLD)
    model.store(
        alerts,
        [
            *decisions,  # relevant and alerted: kept
            quiet_in_story("background-of-alerted", "story-a"),  # the alerted story's page lists it
            quiet_in_story("background-of-quiet", "story-quiet"),
            near_miss("old-near", when=OLD),
            near_miss("recent-near", when=datetime(2026, 11, 1, tzinfo=UTC)),
            (Decision(id="old-relevant", relevant=True, alert=False, story="story-b", title="Relevant, re-report"), OLD),
        ],
    )
    assert model.prune_decisions(TODAY - timedelta(days=120)) == 2
    assert ids(model) == {"story-a-art1", "story-a-art2", "background-of-alerted", "recent-near", "old-relevant"}
    assert model.prune_decisions(TODAY - timedelta(days=120)) == 0, "nothing more to delete"


def test_what_an_analyst_judged_is_kept_beside_the_judgement(model):
    """Feedback names an article or a story: those decisions stay however old, and feedback
    without a story (NULL or empty) keeps nothing else. (The console's forms sit on alerted
    stories, which are kept anyway; the rule keeps whatever an analyst judged, whichever
    form or tool the judgement comes from.)"""
    judged = [
        Feedback(id="f1", verdict="relevant", article_id="judged-near", route="CHN|RUS"),
        Feedback(id="f2", verdict="wrong_story", story_id="story-judged", route="CHN|RUS"),
    ]
    model.store(
        [],
        [
            near_miss("judged-near", when=OLD),
            near_miss("unjudged-near", when=OLD),
            quiet_in_story("in-judged-story", "story-judged"),
            quiet_in_story("in-quiet-story", "story-quiet"),
        ],
        judged,
    )
    model._db.execute("INSERT INTO feedback (id, verdict) VALUES ('f3', 'not_relevant')")  # ids NULL
    assert model.prune_decisions(TODAY - timedelta(days=120)) == 2
    assert ids(model) == {"judged-near", "in-judged-story"}


def test_the_follower_prunes_by_the_retention_setting_and_0_keeps_everything(settings, model):
    model.store([], [near_miss("old-near", when=OLD), near_miss("recent-near", when=datetime(2026, 11, 25, tzinfo=UTC))])
    keep_all = Follower(settings.with_overrides(console_decision_retention_days=0), model)
    assert keep_all.prune(TODAY) == 0 and ids(model) == {"old-near", "recent-near"}
    follower = Follower(settings.with_overrides(console_decision_retention_days=90), model)
    assert follower.prune(TODAY) == 1 and ids(model) == {"recent-near"}
    assert follower.vitals.pruned == 1
