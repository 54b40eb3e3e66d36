"""Decisions over story state: first relevant article alerts, repeats and near-duplicates do not."""

import math
from datetime import UTC, datetime

import pytest

from monitor.models import Article
from monitor.relevance.decision import Rulebook, decide
from monitor.relevance.stories import StoryBook, title_key

WHEN = datetime(2022, 3, 14, 9, tzinfo=UTC)
RELEVANT = "US officials say Russia asked China for military equipment and drones."
BACKGROUND = "Putin and Xi will hold a video call on Wednesday to discuss relations."


def article(ident: str, title: str, text: str, source: str = "Wire A", hours: float = 0) -> Article:
    from datetime import timedelta

    return Article(id=ident, title=title, text=text, source=source, published=WHEN + timedelta(hours=hours))


@pytest.fixture(scope="module")
def policy(watchlist):
    return Rulebook(watchlist)


def run(tagger, book, *articles, policy=None):
    policy = policy or Rulebook(tagger.watchlist)
    return [decide(book, tagged, policy) for tagged in tagger.tag(list(articles))]


def test_first_relevant_article_of_a_story_raises_one_alert(tagger):
    book = StoryBook("CHN|RUS")
    (verdict,) = run(tagger, book, article("a1", "Russia asked China for arms", RELEVANT))
    d = verdict.decision
    assert (d.relevant, d.alert, d.new_story, d.corroboration) == (True, True, True, 1)
    assert verdict.alert is not None and verdict.alert.kind == "new"
    assert RELEVANT in [item.sentence for item in verdict.alert.evidence]
    assert d.alert_id == verdict.alert.id


def test_the_same_article_again_does_not_alert_but_replays_its_alert_id(tagger):
    book = StoryBook("CHN|RUS")
    first, again = run(
        tagger,
        book,
        article("a1", "Russia asked China for arms", RELEVANT),
        article("a1", "Russia asked China for arms", RELEVANT),
    )
    assert first.decision.alert and not again.decision.alert
    assert again.resend is not None and again.resend.id == first.alert.id


def test_a_copy_with_the_same_title_from_another_outlet_joins_the_story_silently(tagger):
    book = StoryBook("CHN|RUS")
    first, copy = run(
        tagger,
        book,
        article("a1", "Russia asked China for arms - Wire A", RELEVANT),
        article("b1", "Russia Asked China for Arms | Wire B", RELEVANT, source="Wire B", hours=1),
    )
    assert copy.decision.story == first.decision.story
    assert (copy.decision.alert, copy.decision.new_story, copy.decision.corroboration) == (False, False, 2)
    assert copy.resend is None


def test_an_irrelevant_article_about_the_pair_opens_a_story_without_alert(tagger):
    (verdict,) = run(tagger, StoryBook("CHN|RUS"), article("c1", "Putin and Xi to talk", BACKGROUND))
    assert (verdict.decision.relevant, verdict.decision.alert, verdict.decision.new_story) == (False, False, True)


def test_an_article_outside_watched_pairs_gets_no_story(policy):
    from monitor.models import TaggedArticle

    verdict = decide(None, TaggedArticle(article=article("d1", "Weather", "Rain in Paris.")), policy)
    assert verdict.decision.story is None and not verdict.decision.alert


def test_stories_expire_after_the_window(tagger):
    book = StoryBook("CHN|RUS", window_s=24 * 3600)
    first, later = run(
        tagger,
        book,
        article("a1", "Russia asked China for arms", RELEVANT),
        article("a2", "Russia asked China for arms", RELEVANT, hours=48),
    )
    assert later.decision.story != first.decision.story and later.decision.alert


def test_story_state_round_trips_through_plain_data(tagger):
    book = StoryBook("CHN|RUS")
    run(tagger, book, article("a1", "Russia asked China for arms", RELEVANT))
    restored = StoryBook.from_state("CHN|RUS", book.state(), window_s=book.window_s)
    (again,) = run(tagger, restored, article("a1", "Russia asked China for arms", RELEVANT))
    assert not again.decision.alert and again.resend is not None


def test_title_key_drops_outlet_suffix_case_and_punctuation():
    assert title_key("Russia asked China for arms – Reuters") == title_key("RUSSIA ASKED CHINA FOR ARMS!")


def test_a_denial_alone_raises_a_low_severity_alert_that_says_denied_and_carries_the_score(watchlist):
    from monitor.models import Claim, Evidence, TaggedArticle
    from monitor.relevance.score import Scorer

    # An explicit claims-only scorer, so the rule logic is pinned and not the learned weights.
    policy = Rulebook(watchlist, scorer=Scorer({"bias": -4, "claim_firm": 8, "claim_soft": 8}))
    sentence = "Beijing denied that it had sent drones to Moscow."
    denied = Claim(subject="CHN", action="provide", object="RUS", topic="military_aid", modality="denied", index=1)
    tagged = TaggedArticle(
        article=article("e1", "Beijing denies sending drones", sentence),
        actors=["CHN", "RUS"],
        topics=["military_aid"],
        evidence=[Evidence(sentence=sentence, index=1, actors=["CHN", "RUS"], topics=["military_aid"])],
        claims=[denied],
        route="CHN|RUS",
    )
    verdict = decide(StoryBook("CHN|RUS"), tagged, policy)
    d = verdict.decision
    assert (d.relevant, d.alert, d.new_story) == (True, True, True)
    assert d.score == round(1 / (1 + math.exp(-4)), 4)
    alert = verdict.alert
    assert alert is not None and alert.kind == "new"
    assert (alert.rule, alert.severity, alert.modality, alert.score) == (
        "link-reported-disputed-or-hypothetical",
        "low",
        "denied",
        d.score,
    )
