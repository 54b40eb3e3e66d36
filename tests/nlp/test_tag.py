"""Tagging on the real spaCy model: actor linking, topic triggers, evidence sentences."""

import pytest

from monitor.models import Article


def tag_one(tagger, text: str, title: str = ""):
    return tagger.tag([Article(id="t", title=title, text=text)])[0]


def test_aliases_metonyms_people_and_demonyms_link_to_canonical_actors(tagger):
    tagged = tag_one(
        tagger, "The Kremlin said Putin spoke to Xi Jinping. Chinese firms and the Russian army were named. Blinken replied."
    )
    by_text = {m.text: m.actor for m in tagged.mentions if m.actor}
    assert by_text["Kremlin"] == "RUS"
    assert by_text["Putin"] == "RUS"
    assert by_text["Xi Jinping"] == "CHN"
    assert by_text["Chinese"] == "CHN"
    assert by_text["Russian"] == "RUS"
    assert by_text["Blinken"] == "USA"
    assert tagged.route == "CHN|RUS"


def test_an_outlet_named_after_a_capital_is_not_the_state(tagger):
    tagged = tag_one(tagger, "The Washington Post reported the meeting on Tuesday.")
    assert "USA" not in tagged.actors


def test_a_request_for_weapons_linking_russia_and_china_is_evidence(tagger):
    tagged = tag_one(tagger, "Russia has asked China to send weapons for its war. Officials met in Rome.")
    assert [e.sentence for e in tagged.evidence] == ["Russia has asked China to send weapons for its war."]
    assert tagged.evidence[0].topics == ["military_aid"]
    assert tagged.topics == ["military_aid"]


def test_weapons_not_governed_by_a_transfer_verb_are_not_military_aid(tagger):
    text = "Russia's Vladimir Putin and China's Xi Jinping use the threat of nuclear weapons to seek strategic advantages."
    assert tag_one(tagger, text).evidence == []


def test_sanctions_in_any_inflection_are_a_trigger(tagger):
    tagged = tag_one(tagger, "Washington sanctioned Chinese companies for helping Russia.")
    assert tagged.evidence and tagged.evidence[0].topics == ["sanctions"]


def test_a_trigger_without_both_watched_actors_is_not_evidence(tagger):
    assert tag_one(tagger, "The EU imposed new sanctions on Russia.").evidence == []


def test_a_headline_line_is_its_own_sentence(tagger):
    tagged = tag_one(tagger, "Moscow asks Beijing for drones and ammunition\nOfficials in Rome met on Monday without comment.")
    assert tagged.evidence[0].sentence == "Moscow asks Beijing for drones and ammunition"


def test_the_title_is_analysed_as_a_sentence_of_its_own(tagger):
    tagged = tag_one(tagger, "The talks were held in private.", title="US sanctions Chinese firms supplying Russia")
    assert tagged.evidence[0].sentence == "US sanctions Chinese firms supplying Russia."
    assert {"USA", "CHN", "RUS"} <= set(tagged.evidence[0].actors)


def test_batches_cut_by_tokens_tag_every_article_as_one_batch_does(tagger):
    """The token budget only bounds memory: a budget smaller than any article (each parsed
    alone) gives the records one nlp.pipe batch gives, with the first pass on and off."""
    from tests.support.paths import SEEDS

    articles = [Article(id=p.stem, title=p.stem, text=p.read_text(encoding="utf-8")) for p in sorted(SEEDS.glob("*.txt"))[:12]]
    saved = tagger.batch_tokens, tagger.first_pass
    runs = []
    try:
        for first_pass in (saved[1], None):
            tagger.first_pass = first_pass
            for budget in (10**9, 50):
                tagger.batch_tokens = budget
                runs.append([t.derive(tagged_at=None).dumps(serializer="json") for t in tagger.tag(articles)])
    finally:
        tagger.batch_tokens, tagger.first_pass = saved
    assert len(runs[0]) == len(articles) >= 5 and any(b'"route":"' in r and b'"route":""' not in r for r in runs[0])
    assert runs[0] == runs[1] and runs[2] == runs[3]


def test_an_actor_named_only_after_the_mention_cap_still_routes_the_article(tagger):
    # A long live blog names hundreds of people and places before Beijing's line near the end;
    # the mention list is capped for story matching, but the actors (and so the route) are not.
    from monitor.nlp.tag import MAX_MENTIONS

    filler = " ".join("Moscow and Kyiv traded fire near Kharkiv." for _ in range(MAX_MENTIONS // 2))
    tagged = tag_one(tagger, filler + "\n\nChina is opposed to new unilateral sanctions imposed on Russia.")
    assert len(tagged.mentions) == MAX_MENTIONS
    assert "CHN" in tagged.actors
    assert tagged.route == "CHN|RUS"


def window_cues(tagger, text: str) -> set[str]:
    tagged = tag_one(tagger, text)
    assert tagged.windows, text
    return set(tagged.windows[0].cues)


@pytest.mark.parametrize(
    "text, expected",
    [
        # The recipient as the object of the verb that moves the aid, with the war's victim beside it.
        ("Officials said Beijing may be ready to supply Moscow with military equipment for its war on Ukraine.", "side_target"),
        # The recipient in a "to" phrase of the verb, not of the aid noun.
        ("China sent drones to Russia last spring, the report says.", "side_target"),
        ("Parts were shipped from China to Russia through Kazakhstan.", "side_target"),
        # Aid aimed at someone else: Russia and China are named for another reason.
        ("Russia warned China as Germany sent new weapons to Poland.", "third_target"),
    ],
)
def test_whom_a_trigger_is_aimed_at_follows_the_grammar_of_its_topic(tagger, text, expected):
    cues = window_cues(tagger, text)
    assert expected in cues
    assert ({"side_target", "third_target"} - {expected}).isdisjoint(cues)


def test_a_war_on_a_third_country_is_not_aid_aimed_at_it(tagger):
    # "war on Ukraine" names the war's victim; it is not where the aid goes.
    cues = window_cues(tagger, "Beijing could help Russia's war on Ukraine with drones, a senator said.")
    assert "third_target" not in cues


def test_a_military_object_of_another_verb_is_not_governed_by_an_enabling_act(tagger):
    # "enables ... to cover the war": the war is covered (reported on), not aided.
    text = "State media follow a playbook that enables China to cover the war through the lens of Russian talking points."
    assert tag_one(tagger, text).evidence == []


def test_a_production_verb_passes_the_governing_act_through(tagger):
    tagged = tag_one(tagger, "Western officials say China helped Russia build drones for the front.")
    assert tagged.evidence and tagged.evidence[0].topics == ["military_aid"]


def test_names_in_a_written_list_are_coordinated_even_when_the_parse_misses_it(tagger):
    # A list of backers is the same thing said of each, not a link between Russia and China.
    cues = window_cues(tagger, "China, Russia, and Iran back the regime, while rebels are armed by Gulf states.")
    assert {"coordinated", "list"} <= cues
    assert "coordinated" not in window_cues(tagger, "Russia asked China for drones and artillery shells.")


@pytest.mark.parametrize(
    "text",
    [
        "Russia is not China; it has no trade surplus to spend while sanctions bite.",
        "Unlike China, Russia has been hit hard by sanctions.",
    ],
)
def test_one_side_compared_with_the_other_is_not_a_link_between_them(tagger, text):
    assert "coordinated" in window_cues(tagger, text)


def test_two_clauses_joined_by_and_are_not_a_list(tagger):
    cues = window_cues(tagger, "The US imposed sanctions on Russia, and China sent drones to Moscow.")
    assert "coordinated" not in cues


def test_an_example_after_like_is_not_a_comparison(tagger):
    cues = window_cues(tagger, "Russia asked countries like China to send drones.")
    assert "coordinated" not in cues


@pytest.mark.parametrize(
    "text",
    [
        "Beijing rejected the new sanctions on Russia.",
        "China refuses to join Western sanctions against Moscow.",
        "Chinese banks could help Russia soften the impact of sanctions.",
    ],
)
def test_a_stance_word_that_governs_the_sanctions_is_a_stance_on_them(tagger, text):
    assert "stance" in window_cues(tagger, text)


def test_a_stance_word_about_something_else_in_a_sentence_with_sanctions_is_not_a_stance(tagger):
    # The impact here is the war's, on trade; the sanctions are one more item of a list.
    text = "Trade rows, mutual sanctions and Russia's war, whose impact on trade China dismissed, have hurt ties."
    assert "stance" not in window_cues(tagger, text)


def test_goods_with_civilian_uses_are_military_aid_only_beside_the_war(tagger):
    civilian = tag_one(tagger, "China sells cheap chips to Russia for its cars and washing machines.")
    assert "military_aid" not in {t for e in civilian.evidence for t in e.topics}
    military = tag_one(tagger, "China sells chips to Russia for its missiles.")
    assert "military_aid" in {t for e in military.evidence for t in e.topics}
    # Parts are the news in this beat ("parts were shipped from China", above), unless they are
    # a car's or an airliner's.
    spare = tag_one(tagger, "China stopped selling aircraft parts and car parts to Russia.")
    assert "military_aid" not in {t for e in spare.evidence for t in e.topics}
