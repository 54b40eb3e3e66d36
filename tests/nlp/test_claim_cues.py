"""Modality and action cues read from the grammar: acts that say the act did not happen,
adjectives of doubt, a charge the accused denies, questions, purpose clauses, and request
verbs that need something asked for. Invented sentences, the real model."""

import pytest

from tests.support.claims import claims_of


@pytest.mark.parametrize(
    "text",
    [
        "Beijing has carefully avoided sending weapons to Moscow.",
        "China has been reluctant to provide military supplies to Russia.",
        "China refrained from shipping drones to Russia.",
    ],
)
def test_an_act_that_was_avoided_is_denied(tagger, text):
    assert ("CHN", "provide", "RUS", "denied") in claims_of(tagger, text)


@pytest.mark.parametrize(
    "text",
    [
        "Officials said it was still possible that China sends weapons to Russia.",
        "It is unlikely that China will ship artillery shells to Russia.",
    ],
)
def test_an_adjective_of_doubt_hedges(tagger, text):
    assert [m for s, a, o, m in claims_of(tagger, text) if (s, a, o) == ("CHN", "provide", "RUS")] == ["hedged"]


def test_a_charge_that_its_subject_denies_is_denied_and_one_a_third_party_denies_is_not(tagger):
    denied = "Western leaders accused Beijing of supplying weapons to Moscow, a charge Beijing denies."
    found = claims_of(tagger, denied)
    assert ("CHN", "provide", "RUS", "denied") in found, "the accused disputes it: the claim is denied"
    assert ("CHN", "deny", "RUS", "asserted") in found, "and the denial is a claim of its own"
    other = "Western leaders accused Beijing of supplying weapons to Moscow, a charge Kyiv repeats."
    assert ("CHN", "provide", "RUS", "attributed") in claims_of(tagger, other), "still the accusers' report"


def test_a_question_is_not_an_assertion(tagger):
    found = claims_of(tagger, "Will China send weapons to Russia?")
    assert found and all(m == "conditional" for *_, m in found)


def test_a_request_verb_needs_something_asked_for(tagger):
    assert ("RUS", "request", "CHN", "asserted") in claims_of(tagger, "Russia sought weapons from China.")
    assert not [c for c in claims_of(tagger, "China sought to appear neutral on weapons for Russia.") if c[1] == "request"]


def test_a_purpose_clause_is_the_subjects_act(tagger):
    found = claims_of(tagger, "Biden used the call to dissuade Xi from sending weapons to Russia.")
    assert ("USA", "request", "CHN", "asserted") in found
    assert not [c for c in found if c[1] == "provide" and c[3] == "asserted"], "the dissuaded act is content, not a fact"


@pytest.mark.parametrize(
    "text",
    [
        "Were Beijing to ship arms to Moscow, Washington would impose sanctions on Chinese banks.",
        "Had China sent weapons to Russia, the war would look different.",
        "Should China send weapons to Russia, sanctions will follow.",
    ],
)
def test_an_inverted_condition_is_conditional_with_its_own_subject(tagger, text):
    found = claims_of(tagger, text)
    assert ("CHN", "provide", "RUS", "conditional") in found
    assert all(m == "conditional" for *_, m in found), "the consequence hangs on the condition too"


def test_an_auxiliary_that_does_not_open_the_sentence_is_no_condition(tagger):
    assert claims_of(tagger, "China had sent weapons to Russia before the talks.") == [("CHN", "provide", "RUS", "asserted")]


def test_an_evasion_eases_the_sanctions_target_never_their_imposer(tagger):
    found = claims_of(tagger, "Beijing will not be able to blunt the US and European sanctions on Russia.")
    assert ("CHN", "evade_sanctions", "RUS", "denied") in found, "'not able to' reaches the act"
    assert not [c for c in found if c[1] == "evade_sanctions" and c[2] in ("USA", "EU")]


def test_a_coordinated_act_is_not_the_content_of_the_first(tagger):
    found = claims_of(tagger, "China refused to condemn Russia's invasion, and opposed the sanctions on Moscow.")
    assert ("CHN", "oppose_sanctions", "RUS", "asserted") in found
    assert claims_of(tagger, "Russia asked China to send drones and to supply shells.") == [("RUS", "request", "CHN", "asserted")]


@pytest.mark.parametrize(
    "text",
    [
        # The refusal is of a condemnation, the call is for peace talks, the wish for warmer ties:
        # none is a refusal of or a request for aid or sanctions, whatever the sentence says next.
        "Beijing has refused to condemn the invasion but keeps criticising the sanctions on Russia.",
        "Beijing called for peace talks between Moscow and Kyiv and criticised the sanctions on Russia.",
        "Moscow has sought warmer ties with Beijing since Western sanctions began.",
    ],
)
def test_a_request_or_refusal_about_something_else_makes_no_aid_or_sanctions_claim(tagger, text):
    actions = {a for _s, a, _o, _m in claims_of(tagger, text)}
    assert not actions & {"refuse", "request"}


def test_a_request_with_aid_as_its_content_still_counts(tagger):
    assert ("RUS", "request", "CHN", "asserted") in claims_of(tagger, "Moscow asked Beijing to send drones and shells.")
    assert ("CHN", "refuse", "RUS", "asserted") in claims_of(tagger, "Beijing refused to send weapons to Moscow.")


def test_troops_sent_into_a_country_are_not_aid_to_it(tagger):
    found = claims_of(tagger, "Russia sent troops into Ukraine as China supplied drones to the Russian army.")
    assert ("RUS", "provide", "UKR", "asserted") not in [c for c in found]
    assert ("CHN", "provide", "RUS", "asserted") in found


def test_a_stance_on_sanctions_is_about_their_target_not_whoever_imposed_them(tagger):
    found = claims_of(tagger, "Beijing has resisted the US and European sanctions, and Russian exports to China keep growing.")
    assert ("CHN", "oppose_sanctions", "USA", "asserted") not in found
    assert ("CHN", "oppose_sanctions", "RUS", "asserted") in found


def test_a_side_clause_of_a_refusal_is_not_what_was_refused(tagger):
    # "while stressing …" hangs beside the refusal; the denial in it is China's own claim.
    text = (
        "Beijing portrays itself as neutral, refusing to denounce the attacks, while stressing its aid "
        "to Ukraine and denying it considered providing military support to Moscow."
    )
    assert ("CHN", "intend", "RUS", "denied") in claims_of(tagger, text)


def test_imposers_named_in_a_coordination_are_never_the_stance_s_object(tagger):
    # "European and US sanctions": a non-actor modifier with an actor conjunct (this raised
    # KeyError once); neither imposer is whom the stance is about.
    found = claims_of(tagger, "China opposed European and US sanctions, as Russian trade with China grew.")
    assert not [c for c in found if c[1] == "oppose_sanctions" and c[2] in ("USA", "EU")]


def test_a_condition_of_a_warning_stays_part_of_what_was_warned(tagger):
    # One claim, the threat; the arms it is about are its content, not a claim of their own.
    found = claims_of(tagger, "The US threatened sanctions if China sends arms to Russia.")
    assert [c[1] for c in found] == ["threaten"]
