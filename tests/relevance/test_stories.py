"""Stories: how an article joins a story (repeat, near-duplicate, same title, same
development) or opens one, the bounds on a route's book, and its state round-trip.

Hand-built records with invented headlines; no spaCy, no broker, no shared data.
"""

import json
from datetime import UTC, datetime

import pytest

from monitor.models import Article, Claim, Evidence, TaggedArticle
from monitor.relevance import similarity
from monitor.relevance.stories import (
    CLAIM_POINTS,
    DEVELOPMENT_WINDOW_S,
    FUTURE_SLACK_S,
    JOIN_DEVELOPMENT,
    JOIN_DUPLICATE,
    JOIN_NEW,
    JOIN_REPEAT,
    JOIN_TITLE,
    MAX_ALERTS,
    MAX_SIGNATURES,
    MAX_STORIES,
    Fingerprint,
    StoryBook,
    article_time,
    title_key,
)

ROUTE = "CHN|RUS"
ROUTE_NAMES = frozenset({"russia", "china"})
DAY = 86400.0
T0 = 1_000_000.0


def tagged(ident: str, title: str, text: str, source: str = "Coastal Herald") -> TaggedArticle:
    return TaggedArticle(article=Article(id=ident, title=title, text=text, source=source), route=ROUTE)


def fingerprint(article: TaggedArticle, topics=("sanctions",), claims=()) -> Fingerprint:
    return Fingerprint.of(article, ROUTE_NAMES, list(topics), list(claims))


STRIKE = tagged(
    "a1",
    "Ferry strike halts Vladivostok harbour",
    "Dock workers walked out in Vladivostok on Tuesday, stranding cargo bound for Harbin and leaving "
    "container cranes idle along the quays.",
)
# Another outlet's account of the same walkout in its own words (13 key terms in common).
RETOLD = tagged(
    "b1",
    "Vladivostok quays idle as dock walkout grows",
    "Cargo for Harbin sits stranded after dock workers in Vladivostok walked out, leaving cranes idle along the harbour quays.",
    source="Harbour Times",
)
# Six key terms in common with STRIKE: two short of a same-development match on its own.
FREIGHT = tagged("c1", "Harbin cargo stranded at Vladivostok quays", "Freight agents report dock delays.", source="Rail Gazette")
UNRELATED = tagged("d1", "Violin maker restores attic cello", "A cello from an attic above the bakery plays again.")
REQUEST = Claim(subject="RUS", action="request", object="CHN", topic="military_aid", index=1)


@pytest.fixture
def book() -> StoryBook:
    return StoryBook(ROUTE)


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("Ferry Strike Halts Vladivostok Harbour - Coastal Herald", "ferry strike halts vladivostok harbour"),
        ("Ferry strike halts Vladivostok harbour | Harbour Times", "ferry strike halts vladivostok harbour"),
        ("Ferry strike halts Vladivostok harbour — Rail Gazette", "ferry strike halts vladivostok harbour"),
        ("  Ferry   strike:\tday three!  ", "ferry strike day three"),
        ("ＦＥＲＲＹ strike", "ferry strike"),
        ("Dock workers' “final” offer", "dock workers final offer"),
        ("", ""),
    ],
)
def test_title_key_drops_the_outlet_suffix_case_punctuation_and_extra_spaces(title, key):
    assert title_key(title) == key


def test_the_first_article_opens_a_story_with_a_fixed_id_and_its_headline(book):
    placement = book.place(STRIKE, T0, fingerprint(STRIKE))
    assert (placement.new_story, placement.repeat, placement.how) == (True, False, JOIN_NEW)
    story = placement.story
    assert story.id == "44902734b1f746f0"
    assert (story.route, story.headline, story.first_source) == (
        ROUTE,
        "Ferry strike halts Vladivostok harbour",
        "Coastal Herald",
    )
    assert (story.article_ids, story.sources, story.articles, story.topics) == (["a1"], ["Coastal Herald"], 1, ["sanctions"])
    assert story.title_keys == ["ferry strike halts vladivostok harbour"]


def test_the_same_article_again_is_a_repeat_and_counts_once(book):
    first = book.place(STRIKE, T0, fingerprint(STRIKE))
    again = book.place(STRIKE, T0 + 60, fingerprint(STRIKE))
    assert (again.story.id, again.new_story, again.repeat, again.how) == (first.story.id, False, True, JOIN_REPEAT)
    assert (again.story.articles, again.story.article_ids, again.story.last_seen) == (1, ["a1"], T0 + 60)


def test_a_copy_with_one_word_added_to_the_title_joins_as_a_near_duplicate(book):
    first = book.place(STRIKE, T0, fingerprint(STRIKE))
    copy = tagged("a3", "Ferry strike halts Vladivostok harbour again", STRIKE.article.text, source="Harbour Times")
    placement = book.place(copy, T0 + 100, fingerprint(copy))
    assert (placement.story.id, placement.how, placement.score) == (first.story.id, JOIN_DUPLICATE, 0.765625)
    assert placement.story.corroboration == 2


def test_another_outlets_copy_of_the_title_joins_on_the_title_alone(book):
    first = book.place(STRIKE, T0)
    copy = tagged("a4", "Ferry strike halts Vladivostok harbour - Harbour Times", "Short wire text.", source="Harbour Times")
    placement = book.place(copy, T0 + 100)
    assert (placement.story.id, placement.new_story, placement.how, placement.score) == (first.story.id, False, JOIN_TITLE, 1.0)
    assert placement.story.sources == ["Coastal Herald", "Harbour Times"]


def test_a_retelling_in_other_words_joins_as_the_same_development(book):
    first = book.place(STRIKE, T0, fingerprint(STRIKE))
    placement = book.place(RETOLD, T0 + DAY, fingerprint(RETOLD))
    assert (placement.story.id, placement.how, placement.score) == (first.story.id, JOIN_DEVELOPMENT, 13)


def test_a_retelling_after_the_development_window_opens_a_new_story(book):
    first = book.place(STRIKE, T0, fingerprint(STRIKE))
    placement = book.place(RETOLD, T0 + DEVELOPMENT_WINDOW_S + 1, fingerprint(RETOLD))
    assert placement.new_story and placement.how == JOIN_NEW and placement.story.id != first.story.id
    assert len(book.stories) == 2


def test_a_retelling_about_another_topic_is_another_story(book):
    book.place(STRIKE, T0, fingerprint(STRIKE, topics=["sanctions"]))
    placement = book.place(RETOLD, T0 + DAY, fingerprint(RETOLD, topics=["military_aid"]))
    assert (placement.new_story, placement.how) == (True, JOIN_NEW)


def test_a_claim_the_story_already_reported_adds_the_points_a_weak_overlap_lacks():
    without = StoryBook(ROUTE)
    without.place(STRIKE, T0, fingerprint(STRIKE))
    assert without.place(FREIGHT, T0 + DAY, fingerprint(FREIGHT, topics=[])).how == JOIN_NEW

    with_claim = StoryBook(ROUTE)
    story = with_claim.place(STRIKE, T0, fingerprint(STRIKE)).story
    story.remember([REQUEST])
    placement = with_claim.place(FREIGHT, T0 + DAY, fingerprint(FREIGHT, topics=[], claims=[REQUEST]))
    assert (placement.story.id, placement.how, placement.score) == (story.id, JOIN_DEVELOPMENT, 6 + CLAIM_POINTS)


def test_the_same_claim_far_down_a_recap_joins_on_its_own_within_the_window_only():
    # A recap shares no key term with the story, but reports its claim in its 40th sentence.
    recap = tagged("r1", "Morning briefing: weather, markets, sport", "Rain is due on the coast.", source="Daily Digest")
    deep = Claim(subject="RUS", action="request", object="CHN", topic="military_aid", index=40)
    book = StoryBook(ROUTE)
    story = book.place(STRIKE, T0, fingerprint(STRIKE)).story
    story.remember([REQUEST])
    placement = book.place(recap, T0 + DAY, fingerprint(recap, claims=[deep]))
    assert (placement.story.id, placement.how) == (story.id, JOIN_DEVELOPMENT)

    later = StoryBook(ROUTE)
    later.place(STRIKE, T0, fingerprint(STRIKE)).story.remember([REQUEST])
    assert later.place(recap, T0 + DEVELOPMENT_WINDOW_S + DAY, fingerprint(recap, claims=[deep])).new_story


def recap(ident: str, day: int, evidence: str, source: str) -> TaggedArticle:
    """A daily war recap: the same boilerplate lede every day, Beijing named far down only."""
    return TaggedArticle(
        article=Article(
            id=ident,
            title=f"Frontline recap, day {day}: shelling along the river, convoys on the coast road",
            text="Shelling along the river went on overnight, convoys moved on the coast road, and the mayor "
            f"ordered shelters opened in the old town. {evidence}",
            source=source,
        ),
        route=ROUTE,
        lede_actors=["RUS"],
        evidence=[Evidence(sentence=evidence, index=9, actors=["CHN", "RUS"])],
    )


def test_recaps_sharing_a_boilerplate_lede_but_reporting_different_developments_stay_apart(book):
    """Their ledes share a dozen words; what each reports for the pair (its evidence) does not."""
    ferries = recap("rc1", 12, "China shipped ferry engines to Russia through Harbin, customs records show.", "Wire One")
    loans = recap("rc2", 13, "Beijing's state banks refused new loans to Moscow's steel importers this week.", "Wire Two")
    book.place(ferries, T0, fingerprint(ferries))
    assert book.place(loans, T0 + DAY, fingerprint(loans)).how == JOIN_NEW
    # Had the ledes described them, they would have joined as one development.
    as_ledes = StoryBook(ROUTE)
    for item, at in ((ferries, T0), (loans, T0 + DAY)):
        described_by_lede = TaggedArticle(**{**item.asdict(), "lede_actors": ["CHN", "RUS"]})
        placement = as_ledes.place(described_by_lede, at, fingerprint(described_by_lede))
    assert placement.how == JOIN_DEVELOPMENT


def test_an_unrelated_article_opens_its_own_story(book):
    book.place(STRIKE, T0, fingerprint(STRIKE))
    placement = book.place(UNRELATED, T0 + 10, fingerprint(UNRELATED))
    assert (placement.new_story, placement.how) == (True, JOIN_NEW)
    assert [s.headline for s in book.stories] == ["Ferry strike halts Vladivostok harbour", "Violin maker restores attic cello"]


def test_a_story_not_seen_for_longer_than_the_window_is_dropped():
    book = StoryBook(ROUTE, window_s=2 * DAY)
    book.place(STRIKE, T0, fingerprint(STRIKE))
    book.place(UNRELATED, T0 + 1.5 * DAY, fingerprint(UNRELATED))
    # The retelling comes 2.5 days after the strike story's last article: that story has closed.
    placement = book.place(RETOLD, T0 + 2.5 * DAY, fingerprint(RETOLD))
    assert placement.new_story
    assert [s.article_ids for s in book.stories] == [["d1"], ["b1"]]


def test_a_route_keeps_at_most_max_stories_and_drops_the_least_recently_seen():
    book = StoryBook(ROUTE)
    for n in range(MAX_STORIES + 1):
        book.place(tagged(f"n{n}", f"Notice number {n}", f"Body {n}."), T0 + n)
    assert MAX_STORIES == 40 and len(book.stories) == 40
    assert book.stories[0].article_ids == ["n1"] and book.stories[-1].article_ids == ["n40"]


def test_a_full_book_drops_a_story_that_never_alerted_before_one_that_did():
    book = StoryBook(ROUTE)
    alerted = book.place(tagged("n0", "Notice number zero", "Body."), T0).story
    alerted.record_alert("al0", "n0", "new", "")
    for n in range(1, MAX_STORIES + 1):
        book.place(tagged(f"n{n}", f"Notice number {n}", f"Body {n}."), T0 + n)
    assert len(book.stories) == MAX_STORIES
    assert alerted in book.stories, "the oldest story, but the only one that alerted"
    assert all(s.article_ids != ["n1"] for s in book.stories), "the oldest that never alerted went"


def test_one_future_dated_article_neither_expires_nor_outlives_the_others():
    book = StoryBook(ROUTE)
    book.place(STRIKE, T0, fingerprint(STRIKE))
    wrong = tagged("f1", "Timezone confusion notice", "Dated a year ahead.")
    fetched = T0 + 60
    wrong.article.published = datetime.fromtimestamp(T0 + 365 * DAY, UTC)
    wrong.article.fetched_at = datetime.fromtimestamp(fetched, UTC)
    when = article_time(wrong, book.clock, wall=0.0)
    assert when == fetched + FUTURE_SLACK_S, "never believed later than an hour past its fetch"
    book.place(wrong, when, fingerprint(wrong))
    assert [s.article_ids for s in book.stories] == [["a1"], ["f1"]], "the open story did not expire"
    # Arrival order, not dates, decides what a full book drops: the future-dated story is
    # not kept over every later one.
    for n in range(MAX_STORIES):
        book.place(tagged(f"n{n}", f"Notice number {n}", f"Body {n}."), T0 + 120 + n)
    assert all(s.article_ids != ["f1"] for s in book.stories)


def test_an_undated_article_takes_the_books_time_not_the_wall_clock():
    book = StoryBook(ROUTE)
    assert article_time(STRIKE, book.clock, wall=5.0) == 5.0, "nothing else to go by"
    book.place(STRIKE, T0, fingerprint(STRIKE))
    assert article_time(RETOLD, book.clock, wall=T0 + 400 * DAY) == T0, "a replay's stream time"


WORDS = ("morning", "noon", "evening", "midnight")


def test_a_story_keeps_the_first_signature_and_the_latest_ones(book):
    story = book.place(STRIKE, T0, fingerprint(STRIKE)).story
    # Words, not digits, tell them apart: a shingle is made of words only.
    follows = [
        tagged(f"f{n}", f"Dock update {word}", f"The {word} dock update from the harbour office.") for n, word in enumerate(WORDS)
    ]
    for n, follow in enumerate(follows):
        story.add(follow, T0 + n, fingerprint(follow))
    assert MAX_SIGNATURES == 3
    assert story.signatures == [similarity.encode(fingerprint(a).signature) for a in (STRIKE, follows[2], follows[3])]


def test_a_story_keeps_its_first_alert_and_the_latest_ones(book):
    story = book.place(STRIKE, T0).story
    for n in range(MAX_ALERTS + 5):
        story.record_alert(f"al-{n}", "a1", "new" if n == 0 else "escalation", f"step {n}")
    assert len(story.alerts) == MAX_ALERTS == 20
    assert list(story.alerts)[:2] == ["al-0", "al-6"] and list(story.alerts)[-1] == "al-24"
    assert story.alerts["al-0"] == {"article": "a1", "kind": "new", "change": "step 0"}


def test_state_round_trips_through_json_and_the_restored_book_matches_as_before(book):
    story = book.place(STRIKE, T0, fingerprint(STRIKE)).story
    story.remember([REQUEST])
    story.record_alert("al-1", "a1", "new", "")
    state = json.loads(json.dumps(book.state()))
    restored = StoryBook.from_state(ROUTE, state, window_s=book.window_s)
    assert restored.stories == book.stories
    assert restored.state() == book.state()
    placement = restored.place(RETOLD, T0 + DAY, fingerprint(RETOLD))
    assert (placement.story.id, placement.how) == (story.id, JOIN_DEVELOPMENT)


def test_state_from_an_older_version_reads_alert_ids_mapped_to_article_ids_and_ignores_unknown_fields():
    old = {
        "stories": [
            {
                "id": "s-old",
                "route": ROUTE,
                "headline": "Ferry strike halts Vladivostok harbour",
                "first_seen": T0,
                "last_seen": T0,
                "first_source": "Coastal Herald",
                "article_ids": ["a1"],
                "alerts": {"al-1": "a1"},
                "retired_field": 3,
            }
        ]
    }
    (story,) = StoryBook.from_state(ROUTE, old, window_s=7 * DAY).stories
    assert story.id == "s-old" and story.article_ids == ["a1"]
    assert story.alerts == {"al-1": {"article": "a1", "kind": "new", "change": ""}}


def test_no_state_is_an_empty_book():
    assert StoryBook.from_state(ROUTE, None, window_s=DAY).stories == []
    assert StoryBook.from_state(ROUTE, {}, window_s=DAY).state() == {"stories": []}
