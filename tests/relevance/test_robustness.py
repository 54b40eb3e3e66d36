"""One bad article never stops a measurement: odd names, titles and texts go through tag → decide.

Texts, titles and entity names are built from whitespace, punctuation, control, format and
combining characters, emoji and empty strings, mixed with the watched names and trigger words
so that the odd text reaches actor linking, claims, story matching and novelty, not only the
tokenizer.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from monitor.models import Article, Claim, Decision, Evidence, Mention, TaggedArticle, record_json
from monitor.relevance import similarity
from monitor.relevance.decision import Rulebook, Verdict, decide
from monitor.relevance.stories import StoryBook

WHEN = datetime(2024, 5, 2, 8, tzinfo=UTC)
ROUTE = "CHN|RUS"

#: Characters that have broken text handling somewhere: spaces of every width, line and
#: paragraph separators, controls, zero-width and bidi marks, combining marks, apostrophes
#: (the possessive strip), quotes, dashes, emoji with skin tone and ZWJ sequences.
ODD_CHARACTERS = (
    " \t\n\r\x0b\x0c\x00\x1b\x7f\x85\xa0\u1680\u2000\u2007\u200a\u2028\u2029\u202f\u3000"
    "\u200b\u200c\u200d\u200e\u200f\u202e\u2066\ufeff\u00ad"
    "\u0301\u0308\u0327\u20dd\u036f"
    "'’‘\"“”«»-–—―.,;:!?…()[]{}<>/\\|@#$%^&*_~`"
    "😀🇨🇳🇷🇺👍🏽👨\u200d👩\u200d👧🧨"
)
#: Words that make the tagger link actors and find triggers, so odd text sits inside evidence.
WORDS = (
    "Russia",
    "China",
    "Beijing",
    "Moscow",
    "Xi",
    "Putin",
    "’s",
    "'s",
    "sent drones to",
    "asked for weapons from",
    "sanctions on",
    "US officials said",
    "the",
    "of",
    "Admiral Quill",
    "Ministry",
)

odd_piece = st.text(alphabet=ODD_CHARACTERS, max_size=8) | st.text(
    alphabet=st.characters(categories=["Zs", "Zl", "Zp", "Cc", "Cf", "Mn", "Me", "Po", "Pd", "Ps", "Pe", "So", "Sk"]),
    max_size=6,
)
#: Relevant sentences with odd pieces wedged between the words, so that odd text reaches
#: claims, rules and novelty too (random words alone rarely name both sides with a trigger).
RELEVANT = "{}Russia{} asked China{} for{} drones{}. US officials said China sent{} weapons to Russia’s{} army."
#: Odd pieces and watched words glued or spaced at random (often empty, often only blanks), or
#: a relevant text with odd pieces inside.
odd_text = st.lists(odd_piece | st.sampled_from(WORDS), max_size=14).flatmap(
    lambda parts: st.sampled_from(["", " ", "\n", "\u00a0", "."]).map(lambda sep: sep.join(parts))
) | st.builds(RELEVANT.format, *[odd_piece] * RELEVANT.count("{}"))
#: Record fields refuse an empty string for ids and mention names; anything else goes.
odd_name = (odd_piece | st.sampled_from(WORDS) | odd_text).filter(bool)


def articles(count: int):
    return st.lists(
        st.builds(
            lambda ident, title, text, hours: Article(
                id=ident, title=title, text=text, source="Wire", published=WHEN + timedelta(hours=hours)
            ),
            odd_name,
            odd_text,
            odd_text,
            st.integers(0, 200),
        ),
        min_size=1,
        max_size=count,
    )


def assert_valid(verdict: Verdict, tagged: TaggedArticle) -> None:
    """A decision a sink and ``newsmon replay`` can use: validated, serialisable, consistent."""
    decision = verdict.decision
    assert isinstance(decision, Decision) and decision.validate() == []
    assert decision.id == tagged.article.id
    assert decision.alert <= decision.relevant
    assert (verdict.alert is not None) == decision.alert
    row = json.loads(record_json(decision))
    assert row["id"] == tagged.article.id and isinstance(row["relevant"], bool)
    if tagged.route:
        assert decision.story and decision.corroboration >= 1


def test_key_terms_skip_an_entity_name_that_is_only_a_possessive():
    """spaCy sometimes tags a bare "’s" as a place; its name is empty once the possessive goes."""
    tagged = TaggedArticle(
        article=Article(id="k1", title="Harbour talks in Valdora", text="Admiral Quill’s fleet met Valdora’s envoy."),
        mentions=[
            Mention(text="’s", label="GPE", sentence=1),
            Mention(text=" 's ", label="PERSON", sentence=1),
            Mention(text="Admiral Quill’s", label="PERSON", sentence=1),
            Mention(text="Valdora", label="GPE", sentence=1),
        ],
    )
    terms = similarity.key_terms(tagged, frozenset())
    assert terms["@quill"] == 1 and terms["@valdora"] == 1
    assert not [term for term in terms if term in ("@", "")]


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(batch=articles(3))
def test_odd_articles_go_through_the_real_tagger_and_decide(tagger, batch):
    policy = Rulebook(tagger.watchlist)
    books: dict[str, StoryBook] = {}
    for tagged in tagger.tag(batch):
        book = books.setdefault(tagged.route, StoryBook(tagged.route)) if tagged.route else None
        assert_valid(decide(book, tagged, policy), tagged)


ACTORS = ("RUS", "CHN", "USA", "UKR")
ACTIONS = ("provide", "request", "impose_sanctions", "threaten", "help_evade_sanctions", "deny", "receive")
MODALITIES = ("asserted", "attributed", "hedged", "denied", "conditional")


@st.composite
def tagged_articles(draw) -> TaggedArticle:
    """A tagged article as it may arrive on the tagged topic: odd names, claims and evidence
    that need not agree (a claim's sentence may have no evidence item)."""
    ident = draw(st.sampled_from(["a1", "a2", "a3"]) | odd_name)
    article = Article(
        id=ident, title=draw(odd_text), text=draw(odd_text), published=WHEN + timedelta(hours=draw(st.integers(0, 100)))
    )
    mentions = draw(
        st.lists(
            st.builds(
                Mention,
                text=odd_name,
                label=st.sampled_from(["PERSON", "ORG", "GPE", "LOC", "FAC", "EVENT", "NORP", "LAW"]),
                actor=st.none() | st.sampled_from(ACTORS),
                sentence=st.integers(0, 8),
            ),
            max_size=8,
        )
    )
    claims = draw(
        st.lists(
            st.builds(
                Claim,
                subject=st.sampled_from(ACTORS),
                action=st.sampled_from(ACTIONS),
                object=st.sampled_from(ACTORS),
                topic=st.sampled_from(["military_aid", "sanctions"]),
                modality=st.sampled_from(MODALITIES),
                sentence=odd_text,
                index=st.integers(0, 8),
                about=st.sampled_from(["", "RUS", "CHN"]),
            ),
            max_size=4,
        )
    )
    evidence = [
        Evidence(sentence=claim.sentence or "·", index=claim.index, actors=[claim.subject, claim.object], topics=[claim.topic])
        for claim in claims
        if draw(st.booleans())
    ]
    actors = sorted({m.actor for m in mentions if m.actor})
    return TaggedArticle(
        article=article,
        mentions=mentions,
        actors=actors,
        topics=sorted({claim.topic for claim in claims}),
        evidence=evidence,
        claims=claims,
        route=draw(st.sampled_from([ROUTE, ""])),
    )


@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=st.lists(tagged_articles(), min_size=1, max_size=5))
def test_odd_tagged_articles_go_straight_through_decide(watchlist, stream):
    """One book for the whole stream, so odd articles also meet stories opened by odd articles."""
    policy = Rulebook(watchlist)
    book = StoryBook(ROUTE)
    for tagged in stream:
        assert_valid(decide(book if tagged.route else None, tagged, policy), tagged)
    # The book still round-trips through the table state the daemon keeps.
    assert StoryBook.from_state(ROUTE, json.loads(json.dumps(book.state())), book.window_s).state() == book.state()


def test_a_copy_of_the_story_book_shares_nothing_the_next_article_changes():
    """``newsmon replay`` decides on a copy and keeps it only when ``decide`` succeeded."""
    book = StoryBook(ROUTE)
    first = TaggedArticle(article=Article(id="c1", title="Valdora harbour deal", text="Envoys met.", published=WHEN))
    book.place(first, WHEN.timestamp())
    book.stories[0].record_alert("al1", "c1", "new", "")
    before = book.state()
    twin = book.copy()
    again = TaggedArticle(article=Article(id="c2", title="Valdora harbour deal", text="Envoys met.", source="Wire B"))
    placement = twin.place(again, WHEN.timestamp() + 60)
    placement.story.record_alert("al2", "c2", "escalation", "x")
    placement.story.remember([Claim(subject="RUS", action="provide", object="CHN", topic="military_aid")])
    assert placement.how == "same_title" and book.state() == before and twin.state() != before
    assert len(twin.stories) == len(book.stories) == 1
