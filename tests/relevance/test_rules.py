"""Detection rules: which shipped watchlist rule a claim matches, and what an article's
claims add up to (relevance, the deciding rule, de-duplicated evidence).

Hand-built Claim, Evidence and TaggedArticle records; the rules are config/watchlist.yaml's.
"""

import pytest

from monitor.models import Article, Claim, Evidence, TaggedArticle
from monitor.relevance.rules import assess, rule_for


@pytest.fixture(scope="module")
def rules(watchlist):
    return watchlist.rules


def claim(subject, action, object_, topic, modality="asserted", about="", index=0) -> Claim:
    return Claim(subject=subject, action=action, object=object_, topic=topic, modality=modality, about=about, index=index)


def article(claims, evidence=()) -> TaggedArticle:
    return TaggedArticle(
        article=Article(id="r-1", title="Invented headline", text="Invented body."),
        claims=list(claims),
        evidence=list(evidence),
        route="CHN|RUS",
    )


def name_of(found) -> str | None:
    return found.name if found is not None else None


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (claim("CHN", "provide", "RUS", "military_aid"), "link-military-aid"),
        # The pair is unordered: the request goes the other way.
        (claim("RUS", "request", "CHN", "military_aid", modality="hedged"), "link-military-aid"),
        (claim("RUS", "evade_sanctions", "CHN", "sanctions", modality="attributed"), "link-sanctions"),
        # A pair that is not the watched one matches no exact-pair rule.
        (claim("USA", "provide", "UKR", "military_aid"), None),
        (claim("RUS", "provide", "IRN", "military_aid"), None),
    ],
)
def test_an_exact_pair_rule_matches_its_two_actors_in_either_order(rules, found, expected):
    assert name_of(rule_for(found, rules)) == expected


def test_a_third_party_rule_needs_the_named_actor_and_the_claim_to_be_about_the_other_side(rules):
    sanctions = claim("USA", "impose_sanctions", "CHN", "sanctions", about="RUS")
    assert name_of(rule_for(sanctions, rules)) == "sanctions-over-china-russia"
    on_russia = claim("EU", "impose_sanctions", "RUS", "sanctions", about="CHN")
    assert name_of(rule_for(on_russia, rules)) == "sanctions-over-russia-china"
    # Sanctions on China over something else, and on Russia over something else, are off the beat.
    assert rule_for(claim("USA", "impose_sanctions", "CHN", "sanctions"), rules) is None
    assert rule_for(claim("USA", "impose_sanctions", "RUS", "sanctions", about="IRN"), rules) is None
    # The named actor must be one side of the claim, not only what it is about.
    assert rule_for(claim("USA", "impose_sanctions", "IRN", "sanctions", about="RUS"), rules) is None


def test_a_rule_with_actions_ignores_a_claim_whose_action_is_not_listed(rules):
    assert rule_for(claim("USA", "provide", "CHN", "sanctions", about="RUS"), rules) is None
    assert name_of(rule_for(claim("USA", "threaten", "CHN", "sanctions", about="RUS"), rules)) == "sanctions-over-china-russia"
    # Military aid is on that rule's topics, but not on the Russia-side rule's.
    assert name_of(rule_for(claim("USA", "request", "CHN", "military_aid", about="RUS"), rules)) == "sanctions-over-china-russia"
    assert rule_for(claim("USA", "request", "RUS", "military_aid", about="CHN"), rules) is None


def test_a_rule_without_actions_matches_every_action(rules):
    assert name_of(rule_for(claim("CHN", "deny", "RUS", "military_aid"), rules)) == "link-military-aid"


@pytest.mark.parametrize(
    ("modality", "expected"),
    [
        ("asserted", "link-military-aid"),
        ("attributed", "link-military-aid"),
        ("hedged", "link-military-aid"),
        ("denied", "link-disputed-or-hypothetical"),
        ("conditional", "link-disputed-or-hypothetical"),
    ],
)
def test_the_modality_chooses_between_the_alerting_and_the_disputed_rule(rules, modality, expected):
    assert name_of(rule_for(claim("CHN", "provide", "RUS", "military_aid", modality=modality), rules)) == expected


def test_a_third_party_conditional_is_matched_by_the_hypothetical_rule(rules):
    found = rule_for(claim("USA", "threaten", "CHN", "sanctions", modality="conditional", about="RUS"), rules)
    assert name_of(found) == "third-party-hypothetical" and found is not None and not found.alert


def test_a_claim_on_a_topic_no_rule_lists_matches_nothing(rules):
    assert rule_for(claim("CHN", "provide", "RUS", "energy"), rules) is None


def test_an_article_without_matching_claims_is_not_relevant(rules):
    assessment = assess(article([claim("USA", "provide", "UKR", "military_aid")]), rules)
    assert (assessment.relevant, assessment.rule, assessment.topics, assessment.claims) == (False, "", [], [])
    assert assess(article([]), rules).relevant is False


def test_the_most_severe_alerting_rule_decides_whatever_the_order_of_claims(rules):
    medium = claim("RUS", "evade_sanctions", "CHN", "sanctions", index=0)
    high = claim("CHN", "provide", "RUS", "military_aid", index=1)
    low = claim("CHN", "deny", "RUS", "sanctions", modality="denied", index=2)
    assessment = assess(article([low, medium, high]), rules)
    assert (assessment.relevant, assessment.rule, assessment.severity) == (True, "link-military-aid", "high")
    assert assessment.topics == ["military_aid", "sanctions"]
    assert assessment.claims == [low, medium, high] and assessment.alerting == [medium, high]


def test_with_only_non_alerting_claims_the_first_matched_rule_decides_and_nothing_alerts(rules):
    denied = claim("CHN", "deny", "RUS", "military_aid", modality="denied")
    conditional = claim("USA", "threaten", "CHN", "sanctions", modality="conditional", about="RUS", index=1)
    assessment = assess(article([denied, conditional]), rules)
    assert (assessment.relevant, assessment.rule, assessment.severity) == (True, "link-disputed-or-hypothetical", "low")
    assert assessment.alerting == []


def test_evidence_keeps_matched_sentences_once_and_drops_unmatched_ones(rules):
    lede = "Beijing sent drone parts to Moscow, officials said."
    evidence = [
        Evidence(sentence=lede, index=0, actors=["CHN", "RUS"], topics=["military_aid"]),
        Evidence(sentence="The harbour reopened on Friday.", index=2, actors=["CHN", "RUS"], topics=["sanctions"]),
        # The lede repeated as the first paragraph.
        Evidence(sentence=lede, index=3, actors=["CHN", "RUS"], topics=["military_aid"]),
    ]
    claims = [claim("CHN", "provide", "RUS", "military_aid", index=0), claim("CHN", "provide", "RUS", "military_aid", index=3)]
    assessment = assess(article(claims, evidence), rules)
    assert [(item.index, item.sentence) for item in assessment.evidence] == [(0, lede)]
