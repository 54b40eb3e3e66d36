"""Claims from the dependency parse: subject, action, object, topic, modality and CAMEO code."""

import pytest

from monitor.models import Article
from monitor.offline.claimcheck import check_claims, load_expected_claims, shared_paths
from monitor.offline.readers import read_articles
from tests.support.paths import PROJECT, SHARED

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared


def claims_of(tagger, text: str):
    tagged = tagger.tag([Article(id="c", text=text)])[0]
    return [(c.subject, c.action, c.object, c.topic, c.modality) for c in tagged.claims], tagged.claims


def only(tagger, text: str):
    found, claims = claims_of(tagger, text)
    assert len(found) == 1, found
    return found[0], claims[0]


def test_a_plain_report_is_an_asserted_delivery_with_its_cameo_code(tagger):
    found, claim = only(tagger, "China sent weapons to Russia.")
    assert found == ("CHN", "provide", "RUS", "military_aid", "asserted")
    assert claim.cameo == "072" and claim.sentence == "China sent weapons to Russia."


def test_a_denial_changes_the_modality_not_the_claim(tagger):
    found, _ = only(tagger, "Beijing denies sending weapons to Russia.")
    assert found == ("CHN", "provide", "RUS", "military_aid", "denied")
    found, _ = only(tagger, "China has not sent weapons to Russia.")
    assert found[-1] == "denied"


def test_a_condition_changes_the_modality(tagger):
    found, _ = claims_of(tagger, "If China sends weapons to Russia, the US will impose sanctions on Beijing.")
    assert ("CHN", "provide", "RUS", "military_aid", "conditional") in found
    assert ("USA", "impose_sanctions", "CHN", "sanctions", "conditional") in found


def test_an_attribution_changes_the_modality(tagger):
    found, _ = only(tagger, "According to US officials, China has sent drones to Russia.")
    assert found == ("CHN", "provide", "RUS", "military_aid", "attributed")
    found, _ = only(tagger, "The US said Russia asked China for military equipment.")
    assert found == ("RUS", "request", "CHN", "military_aid", "attributed")


def test_a_hedge_changes_the_modality(tagger):
    found, _ = only(tagger, "China may supply artillery shells to Russia.")
    assert found == ("CHN", "provide", "RUS", "military_aid", "hedged")


def test_what_is_asked_for_is_the_content_of_the_request_not_a_delivery(tagger):
    found, claim = only(tagger, "Russia has asked China to send military equipment.")
    assert found == ("RUS", "request", "CHN", "military_aid", "asserted") and claim.cameo == "0232"


def test_a_promise_is_an_intent_to_provide(tagger):
    found, claim = only(tagger, "China promised to supply Russia with drones.")
    assert found[:3] == ("CHN", "intend", "RUS") and claim.cameo == "0332"


def test_a_third_party_sanctioning_chinese_firms_over_russia_is_about_the_link(tagger):
    found, claims = claims_of(tagger, "US sanctions Chinese firms for supplying Russia's army.")
    sanction = next(c for c in claims if c.action == "impose_sanctions")
    assert (sanction.subject, sanction.object, sanction.about, sanction.cameo) == ("USA", "CHN", "RUS", "163")
    assert ("CHN", "provide", "RUS", "military_aid", "asserted") in found


def test_dual_use_components_count_as_military_aid(tagger):
    found, _ = only(tagger, "Chinese companies shipped dual-use components to Russia.")
    assert found == ("CHN", "provide", "RUS", "military_aid", "asserted")


def test_warnings_evasion_opposition_and_easing_of_sanctions(tagger):
    found, claims = claims_of(tagger, "Sullivan warned China to avoid helping Russia evade sanctions.")
    assert found == [("USA", "threaten", "CHN", "sanctions", "asserted")] and claims[0].cameo == "1312"
    found, claims = claims_of(tagger, "China helped Russia evade sanctions.")
    assert found == [("CHN", "help_evade_sanctions", "RUS", "sanctions", "asserted")]
    found, claims = claims_of(tagger, "China opposes sanctions against Russia.")
    assert found == [("CHN", "oppose_sanctions", "RUS", "sanctions", "asserted")]
    found, claims = claims_of(tagger, "The US eased sanctions on Chinese banks that financed Russian arms purchases.")
    assert ("USA", "ease_sanctions", "CHN", "sanctions", "asserted") in found
    assert next(c for c in claims if c.action == "ease_sanctions").cameo == "085"


def test_a_sentence_without_a_watched_act_gives_no_claim(tagger):
    found, _ = claims_of(tagger, "Russia and China have faced sanctions in the past for their internal policies.")
    assert found == []


def test_the_claim_marks_actors_and_action_in_its_sentence(tagger):
    _, claim = only(tagger, "China sent weapons to Russia.")
    assert claim.marked == "[[China|CHN]] <<sent|provide>> weapons to [[Russia|RUS]]."


def test_hand_checked_claims_on_real_articles_are_right_in_at_least_90_percent(tagger):
    """The hand check of eval/claims.csv (ids and sentence hashes; the text stays in ../shared)."""
    expected = load_expected_claims(PROJECT / "eval" / "claims.csv")
    assert len(expected) >= 20
    wanted = {item.id for item in expected}
    articles = [a for a in read_articles(shared_paths({item.file for item in expected}, SHARED)) if a.id in wanted]
    tagged = {t.article.id: t for t in tagger.tag(articles)}
    result = check_claims(expected, tagged)
    assert result["share"] >= 0.9, result["wrong"]


def test_the_evaluation_refuses_the_blind_file():
    with pytest.raises(ValueError, match="blind"):
        shared_paths(["corpus/hellaskella33_key_annotated_articles.json"], SHARED)


def test_buying_from_china_is_reported_as_china_providing(tagger):
    found, claim = only(tagger, "Russia's defense ministry denied buying drones from China.")
    assert found == ("CHN", "provide", "RUS", "military_aid", "denied") and claim.cameo == "072"


def test_opposing_another_party_s_sanctions_on_russia_targets_russia(tagger):
    found, _ = claims_of(tagger, "Chinese officials opposed the new US sanctions against Russia.")
    assert found == [("CHN", "oppose_sanctions", "RUS", "sanctions", "asserted")]


def test_a_side_clause_naming_china_does_not_make_sanctions_on_russia_about_china(tagger):
    _, claims = claims_of(tagger, "The EU imposed new sanctions on Russia, while China increased its purchases of Russian oil.")
    assert [(c.subject, c.action, c.object, c.about) for c in claims] == [("EU", "impose_sanctions", "RUS", "")]
    tagged = tagger.tag(
        [Article(id="x", text="The EU imposed new sanctions on Russia, while China increased its purchases of Russian oil.")]
    )[0]
    from monitor.relevance.rules import Judge, assess, rule_for
    from monitor.relevance.score import Scorer

    # No rule matches its claim, so on claims alone (a scorer that reads only matched claims, not
    # the learned weights) the article is not relevant.
    rules = tagger.watchlist.rules
    assert [rule_for(c, rules) for c in tagged.claims] == [None]
    claims_only = Judge(rules, Scorer({"bias": -4, "claim_firm": 8, "claim_soft": 8}), 0.5, frozenset({"CHN", "RUS"}))
    assert assess(tagged, claims_only).relevant is False


def test_renaming_an_action_in_the_watchlist_keeps_what_claims_read_by_its_role(tmp_path):
    """Claim extraction finds special acts (denial, evasion, transfer…) by role, not by id."""
    from monitor.nlp.claims import ClaimExtractor
    from monitor.watchlist import load_watchlist
    from tests.support.paths import CONFIG

    text = (CONFIG / "watchlist.yaml").read_text(encoding="utf-8").replace("\n  deny:\n", "\n  dismissal:\n")
    path = tmp_path / "watchlist.yaml"
    path.write_text(text, encoding="utf-8")
    renamed = load_watchlist(path)
    assert "deny" not in renamed.actions and ClaimExtractor(renamed).roles["denial"] == "dismissal"


def test_a_role_given_twice_or_unknown_fails_check_config_naming_the_line(tmp_path):
    import pytest

    from monitor.configfile import ConfigError
    from monitor.watchlist import load_watchlist
    from tests.support.paths import CONFIG

    text = (CONFIG / "watchlist.yaml").read_text(encoding="utf-8")
    text = text.replace("    role: request\n", "    role: denial\n").replace("    role: threat\n", "    role: menace\n")
    path = tmp_path / "watchlist.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_watchlist(path)
    problems = "\n".join(error.value.problems)
    assert "role 'denial' is also 'deny''s" in problems and "unknown role 'menace'" in problems
