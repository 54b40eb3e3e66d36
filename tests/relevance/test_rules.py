"""Detection rules: which shipped watchlist rule a claim matches, and what an article's
claims and windows add up to (relevance, the deciding rule, its modality, de-duplicated evidence).

Hand-built Claim, Evidence, Window and TaggedArticle records; the rules are config/watchlist.yaml's.
The scorer is set by hand, not the learned weights: any matched claim, or a window with both sides
and an aid trigger in one sentence, makes an article relevant, so these tests pin the rule logic.
"""

import pytest

from monitor.models import Article, Claim, Evidence, TaggedArticle, Window
from monitor.relevance.rules import Judge, assess, rule_for
from monitor.relevance.score import Scorer

#: One matched claim (firm or soft) or one aid window is enough; nothing else is.
SCORER = Scorer({"bias": -4, "claim_firm": 8, "claim_soft": 8, "aid_in_sentence": 8})


@pytest.fixture(scope="module")
def rules(watchlist):
    return watchlist.rules


@pytest.fixture(scope="module")
def judge(rules):
    return Judge(rules=rules, scorer=SCORER, threshold=0.5, sides=frozenset({"CHN", "RUS"}))


def claim(subject, action, object_, topic, modality="asserted", about="", index=0) -> Claim:
    return Claim(subject=subject, action=action, object=object_, topic=topic, modality=modality, about=about, index=index)


def article(claims, evidence=(), windows=()) -> TaggedArticle:
    return TaggedArticle(
        article=Article(id="r-1", title="Invented headline", text="Invented body."),
        claims=list(claims),
        evidence=list(evidence),
        windows=list(windows),
        route="CHN|RUS",
    )


def name_of(found) -> str | None:
    return found.name if found is not None else None


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (claim("CHN", "provide", "RUS", "military_aid"), "link-military-aid"),
        # The pair is unordered: the request goes the other way.
        (claim("RUS", "request", "CHN", "military_aid", modality="attributed"), "link-military-aid"),
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
    ("modality", "expected", "severity"),
    [
        ("asserted", "link-military-aid", "high"),
        ("attributed", "link-military-aid", "high"),
        # A hedge, a denial or a condition still reports on the link: it alerts, but low.
        ("hedged", "link-reported-disputed-or-hypothetical", "low"),
        ("denied", "link-reported-disputed-or-hypothetical", "low"),
        ("conditional", "link-reported-disputed-or-hypothetical", "low"),
    ],
)
def test_the_modality_chooses_between_the_firm_and_the_low_severity_rule(rules, modality, expected, severity):
    found = rule_for(claim("CHN", "provide", "RUS", "military_aid", modality=modality), rules)
    assert found is not None and (found.name, found.severity, found.alert) == (expected, severity, True)


def test_a_third_party_conditional_is_matched_by_the_low_severity_rule_which_alerts(rules):
    found = rule_for(claim("USA", "threaten", "CHN", "sanctions", modality="conditional", about="RUS"), rules)
    assert found is not None and (found.name, found.severity, found.alert) == (
        "third-party-reported-or-hypothetical",
        "low",
        True,
    )


def test_a_claim_on_a_topic_no_rule_lists_matches_nothing(rules):
    assert rule_for(claim("CHN", "provide", "RUS", "energy"), rules) is None


def test_an_article_without_matching_claims_or_windows_is_not_relevant(judge):
    assessment = assess(article([claim("USA", "provide", "UKR", "military_aid")]), judge)
    assert (assessment.relevant, assessment.rule, assessment.topics, assessment.claims) == (False, "", [], [])
    assert assessment.alerts is False and assessment.score < judge.threshold
    assert assess(article([]), judge).relevant is False


def test_the_most_severe_alerting_rule_decides_whatever_the_order_of_claims(judge):
    medium = claim("RUS", "evade_sanctions", "CHN", "sanctions", index=0)
    high = claim("CHN", "provide", "RUS", "military_aid", index=1)
    low = claim("CHN", "deny", "RUS", "sanctions", modality="denied", index=2)
    assessment = assess(article([low, medium, high]), judge)
    assert (assessment.relevant, assessment.rule, assessment.severity) == (True, "link-military-aid", "high")
    assert (assessment.modality, assessment.alerts) == ("asserted", True)
    assert assessment.topics == ["military_aid", "sanctions"]
    # The denial alerts too (low), so every matched claim is an alerting one.
    assert assessment.claims == [low, medium, high] and assessment.alerting == [low, medium, high]


def test_a_denial_and_a_condition_alone_alert_low_with_the_denial_as_modality(judge):
    denied = claim("CHN", "deny", "RUS", "military_aid", modality="denied")
    conditional = claim("USA", "threaten", "CHN", "sanctions", modality="conditional", about="RUS", index=1)
    assessment = assess(article([denied, conditional]), judge)
    assert (assessment.relevant, assessment.rule, assessment.severity) == (True, "link-reported-disputed-or-hypothetical", "low")
    assert (assessment.modality, assessment.alerts) == ("denied", True)
    assert assessment.alerting == [denied, conditional]


def test_a_denial_only_article_alerts_low_with_modality_denied(judge):
    denied = claim("CHN", "provide", "RUS", "military_aid", modality="denied")
    assessment = assess(article([denied]), judge)
    assert (assessment.relevant, assessment.alerts) == (True, True)
    assert (assessment.rule, assessment.severity, assessment.modality) == (
        "link-reported-disputed-or-hypothetical",
        "low",
        "denied",
    )
    assert assessment.alerting == [denied] and assessment.topics == ["military_aid"]


def test_with_only_rules_that_say_alert_false_the_first_matched_rule_decides_and_nothing_alerts(rules):
    silent = [rule.model_copy(update={"alert": False}) for rule in rules]
    judge = Judge(rules=silent, scorer=SCORER, threshold=0.5, sides=frozenset({"CHN", "RUS"}))
    denied = claim("CHN", "deny", "RUS", "military_aid", modality="denied")
    conditional = claim("USA", "threaten", "CHN", "sanctions", modality="conditional", about="RUS", index=1)
    assessment = assess(article([denied, conditional]), judge)
    assert (assessment.relevant, assessment.rule, assessment.severity) == (True, "link-reported-disputed-or-hypothetical", "low")
    assert (assessment.modality, assessment.alerts) == ("denied", False)
    assert assessment.claims == [denied, conditional] and assessment.alerting == []


def test_an_article_relevant_on_windows_alone_alerts_low_as_reported(judge):
    window = Window(
        index=1,
        sentence="Beijing shipped drone engines to Moscow last month.",
        actors=["CHN", "RUS"],
        topics=["military_aid"],
        cues=["tight"],
    )
    assessment = assess(article([], windows=[window]), judge)
    assert (assessment.relevant, assessment.alerts) == (True, True)
    assert (assessment.rule, assessment.severity, assessment.modality) == ("windows", "low", "hedged")
    assert assessment.topics == ["military_aid"] and assessment.claims == [] and assessment.alerting == []
    assert [(item.index, item.sentence, item.actors) for item in assessment.evidence] == [(1, window.sentence, ["CHN", "RUS"])]
    assert assessment.features["tight_link"] == 1.0 and assessment.features["aid_in_sentence"] == 1.0
    # The same window without the aid trigger supports nothing: not relevant, no alert.
    bare = Window(index=1, sentence="Beijing and Moscow held talks.", actors=["CHN", "RUS"], cues=["tight"])
    assert assess(article([], windows=[bare]), judge).relevant is False


def test_evidence_keeps_matched_sentences_once_and_drops_unmatched_ones(judge):
    lede = "Beijing sent drone parts to Moscow, officials said."
    evidence = [
        Evidence(sentence=lede, index=0, actors=["CHN", "RUS"], topics=["military_aid"]),
        Evidence(sentence="The harbour reopened on Friday.", index=2, actors=["CHN", "RUS"], topics=["sanctions"]),
        # The lede repeated as the first paragraph.
        Evidence(sentence=lede, index=3, actors=["CHN", "RUS"], topics=["military_aid"]),
    ]
    claims = [claim("CHN", "provide", "RUS", "military_aid", index=0), claim("CHN", "provide", "RUS", "military_aid", index=3)]
    assessment = assess(article(claims, evidence), judge)
    assert [(item.index, item.sentence) for item in assessment.evidence] == [(0, lede)]
