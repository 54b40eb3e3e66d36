"""Whom an act is aimed at and how sure the text is, where the parse puts a source, a
circumstance, a forecast or a report beside the act. Invented sentences, the real model."""

import pytest

from tests.support.claims import claims_of


def test_the_source_of_a_report_is_not_the_object_of_the_act_it_reports(tagger):
    found = claims_of(tagger, "According to US intelligence, China is weighing whether to supply drones to Russia.")
    assert ("CHN", "intend", "RUS", "attributed") in found
    assert not [c for c in found if c[2] == "USA"]


def test_a_circumstance_of_an_act_names_no_party_to_it(tagger):
    text = "The president laid out penalties if China gave material support, following US intelligence that Moscow asked Beijing for military assistance."
    found = claims_of(tagger, text)
    assert ("RUS", "request", "CHN", "conditional") in found
    assert not [c for c in found if c[2] == "USA"]


def test_whoever_faces_sanctions_is_their_target(tagger):
    found = claims_of(tagger, "Chinese banks could face EU sanctions over their dealings with Moscow.")
    assert found == [("EU", "impose_sanctions", "CHN", "hedged")]


@pytest.mark.parametrize(
    "text",
    [
        "The senator said she is confident that Beijing will not arm Russia.",
        "US officials do not believe China would supply tanks to Russia.",
    ],
)
def test_a_forecast_that_an_act_will_not_happen_is_hedged_not_denied(tagger, text):
    assert [m for s, a, o, m in claims_of(tagger, text) if (s, a, o) == ("CHN", "provide", "RUS")] == ["hedged"]


def test_a_belief_that_an_act_did_not_happen_stays_a_denial(tagger):
    assert ("CHN", "provide", "RUS", "denied") in claims_of(tagger, "Officials believe China did not send drones to Russia.")


def test_it_was_possible_beside_the_act_hedges_it(tagger):
    found = claims_of(tagger, "Diplomats said it was quite possible Beijing helps Moscow dodge the sanctions.")
    assert ("CHN", "help_evade_sanctions", "RUS", "hedged") in found


def test_a_help_to_evade_is_aimed_at_the_evader_not_at_the_sanctions_imposer(tagger):
    found = claims_of(tagger, "Diplomats said Beijing helps Moscow blunt the effect of EU sanctions.")
    assert ("CHN", "help_evade_sanctions", "RUS", "attributed") in found
    # The evader named only in the first clause; the second names who imposed the measures.
    text = (
        "Officials said it is possible Beijing helps Moscow ease the effect of withering sanctions, "
        "though it is unlikely the country could blunt the effects of the US and EU measures."
    )
    found = claims_of(tagger, text)
    assert ("CHN", "help_evade_sanctions", "RUS", "hedged") in found
    assert not [c for c in found if c[2] in ("USA", "EU")]


def test_a_side_clause_lends_no_topic_to_the_act_beside_it(tagger):
    # Food for Ukraine is not a sanctions act; the stance in the side clause is its own claim.
    found = claims_of(tagger, "Beijing says it is shipping food aid to Ukraine while still opposing sanctions on Russia.")
    assert ("CHN", "oppose_sanctions", "RUS", "attributed") in found
    assert not [c for c in found if c[2] == "UKR"]


def test_no_evidence_that_an_act_happened_denies_it(tagger):
    found = claims_of(tagger, "There is not yet any evidence that China is supplying weapons to Russia.")
    assert ("CHN", "provide", "RUS", "denied") in found


def test_not_this_but_that_is_no_denial_of_that(tagger):
    found = claims_of(tagger, "The issue is not Russian exports but Chinese imports of Russian weapons.")
    assert [m for s, a, o, m in found if (s, a, o) == ("RUS", "provide", "CHN")] == ["asserted"]


def test_a_speaker_s_own_act_in_what_it_says_is_reported(tagger):
    assert claims_of(tagger, "Beijing says it will keep opposing sanctions on Russia.") == [
        ("CHN", "oppose_sanctions", "RUS", "attributed")
    ]


def test_a_speaker_s_own_act_named_in_passing_is_not_reported(tagger):
    found = claims_of(tagger, "The US says Beijing broke US sanctions on Moscow.")
    assert ("USA", "impose_sanctions", "RUS", "asserted") in found


def test_an_act_coordinated_with_a_report_is_not_reported_by_it(tagger):
    found = claims_of(tagger, "Washington accused Beijing of arming Moscow, and it sanctioned two Chinese firms last week.")
    assert ("USA", "impose_sanctions", "CHN", "asserted") in found
    assert ("CHN", "provide", "RUS", "attributed") in found


@pytest.mark.parametrize(
    "text",
    [
        "Beijing agreed to a Russian request for military supplies.",
        "Officials deny reports that Beijing had agreed to a Russian request for military supplies.",
    ],
)
def test_a_request_answered_by_a_verb_was_made_to_whoever_answers_it(tagger, text):
    assert [(s, a, o) for s, a, o, _m in claims_of(tagger, text)] == [("RUS", "request", "CHN")]


def test_agreeing_to_a_request_does_not_report_it(tagger):
    assert claims_of(tagger, "Beijing agreed to a Russian request for military supplies.") == [
        ("RUS", "request", "CHN", "asserted")
    ]


@pytest.mark.parametrize(
    "text, claim",
    [
        ("Russia made a request to China for military supplies.", ("RUS", "request", "CHN", "asserted")),
        ("The White House issued a warning to Beijing over arms shipments to Russia.", ("USA", "threaten", "CHN", "asserted")),
    ],
)
def test_an_act_carried_by_a_light_verb_takes_the_verb_s_subject_and_phrases(tagger, text, claim):
    assert claim in claims_of(tagger, text)


def test_a_question_on_a_line_of_its_own_is_conditional(tagger):
    # The line break after the question mark belongs to the sentence; it still asks.
    found = claims_of(tagger, "Would Beijing ever send weapons to Moscow?\n\nFew analysts think so.")
    assert [m for s, a, o, m in found if (s, a, o) == ("CHN", "provide", "RUS")] == ["conditional"]


@pytest.mark.parametrize(
    "text",
    [
        # The negation is Beijing's; the sanctions it did not join were imposed all the same.
        "Beijing has not joined the sanctions imposed on Moscow by the EU.",
        # Background inside what officials said is not their report.
        "Officials noted that China has respected the sanctions the EU has imposed on Russia.",
    ],
)
def test_an_act_in_a_clause_describing_a_noun_is_background_stated_as_fact(tagger, text):
    assert ("EU", "impose_sanctions", "RUS", "asserted") in claims_of(tagger, text)


def test_what_a_report_says_stays_reported(tagger):
    found = claims_of(tagger, "Officials said they had information that Moscow had asked Beijing for military aid.")
    assert ("RUS", "request", "CHN", "attributed") in found


@pytest.mark.parametrize(
    "text",
    [
        "Washington says Moscow asked Beijing for military aid, a claim both deny.",
        "The US says Moscow asked Beijing for weapons, a charge both governments deny.",
    ],
)
def test_a_charge_both_parties_deny_is_denied(tagger, text):
    assert ("RUS", "request", "CHN", "denied") in claims_of(tagger, text)


def test_a_general_verb_is_a_sanctions_act_only_with_sanctions_in_its_own_phrase(tagger):
    assert claims_of(tagger, "Washington hit Chinese banks with new sanctions for helping Russia.") == [
        ("USA", "impose_sanctions", "CHN", "asserted")
    ]
    # Hitting back at a decision is a retort, not a sanction: the sanctions are the decision's.
    found = claims_of(tagger, "China hit back at the West's decision to slap sanctions on Russia.")
    assert not [c for c in found if c[:2] == ("CHN", "impose_sanctions")]


def test_what_a_request_is_for_is_not_whom_it_asks(tagger):
    # Market demand for American chips asks nothing of America.
    found = claims_of(tagger, "Chinese traders meet Russia's demand for sanctioned American chips.")
    assert not [c for c in found if c[1] == "request" and c[2] == "USA"]
    assert ("RUS", "request", "CHN", "asserted") in claims_of(tagger, "Russia asked China for weapons.")


def test_a_transfer_someone_is_only_willing_to_make_is_an_intent(tagger):
    assert claims_of(tagger, "China is ready to supply artillery shells to Russia.") == [("CHN", "intend", "RUS", "asserted")]
    # Unwilling stays a denied transfer.
    assert claims_of(tagger, "China is unwilling to supply weapons to Russia.") == [("CHN", "provide", "RUS", "denied")]


def test_a_for_phrase_naming_an_act_is_the_reason_not_the_target(tagger):
    # The sanctions fall on whoever bought, not on the seller the purchases name.
    found = claims_of(tagger, "Beijing protested US sanctions for Russian arms purchases.")
    assert not [c for c in found if c[:3] == ("USA", "impose_sanctions", "RUS")]
    assert ("CHN", "provide", "RUS", "asserted") in claims_of(tagger, "China sent weapons for Russia's army.")
