"""Relevance without a complete claim: each category of miss and of false alarm, pinned with
sentences written for this test (none is taken from an article), through the real tagger and
the shipped relevance weights at the default threshold."""

from __future__ import annotations

import pytest

from monitor.models import Article
from monitor.relevance.decision import Rulebook
from monitor.relevance.rules import assess
from monitor.settings import Settings


@pytest.fixture(scope="module")
def judge(watchlist):
    return Rulebook(watchlist, threshold=Settings().relevance_threshold).judge


def relevance(tagger, judge, text: str, title: str = ""):
    tagged = tagger.tag([Article(id="t", title=title, text=text)])[0]
    return assess(tagged, judge)


RELEVANT = {
    "stance: Beijing refuses to join sanctions": (
        "China rejects Western pressure",
        "Beijing said on Tuesday that it would not join Western sanctions against Moscow and called them illegal.",
    ),
    "stance: helping Moscow cushion sanctions": (
        "",
        "Chinese banks have helped Russia cushion the blow of Western sanctions, according to analysts in Hong Kong.",
    ),
    "the link across neighbouring sentences": (
        "",
        "Chinese officials met their counterparts in a closed session on Monday. "
        "They agreed that Beijing would keep supplying drones and artillery shells to Moscow.",
    ),
    "a verb outside the lists: arming": (
        "",
        "A senator warned that China could begin arming Russia within weeks unless Washington acts.",
    ),
    "an agentless passive with the source in a from-phrase": (
        "",
        "Thousands of drone components were shipped from China to Russia last year, investigators found.",
    ),
    "energy presented as sanctions relief": (
        "",
        "China has bought record amounts of Russian oil that Western sanctions pushed out of European markets.",
    ),
    "a third party's assessment": (
        "",
        "US intelligence officials assess that China is providing Russia with satellite imagery and microchips for its war.",
    ),
    "glued sentences from scraped text": (
        "",
        "The European Union imposed new sanctions on Moscow.Since then, Chinese firms have shipped microchips to Russia's army.",
    ),
}

NOT_RELEVANT = {
    "China and Russia in one list of adversaries": (
        "",
        "China, Russia, Iran and North Korea are the main threats to American security, the report said.",
    ),
    "sanctions on Russia, China only in another passage": (
        "",
        "The European Union adopted a new package of sanctions against Russia on Friday.\n\n"
        "In other news, the weather in Beijing turned cold and schools in China closed for the holiday.",
    ),
    "nuclear threats": (
        "",
        "Russia and China have both expanded their nuclear arsenals, the Pentagon said in its annual report.",
    ),
    "joint exercises alone": (
        "",
        "Russian and Chinese warships held joint naval exercises in the Sea of Japan this week.",
    ),
    "a trade deal not presented as sanctions relief": (
        "",
        "Russia and China signed a deal to expand trade in soybeans and pork, officials in Moscow said.",
    ),
    "military aid to a third party": (
        "",
        "The United States announced new military aid to Ukraine as Russian and Chinese diplomats held talks in Geneva.",
    ),
}


@pytest.mark.parametrize("case", sorted(RELEVANT))
def test_relevant_without_a_complete_claim(tagger, judge, case):
    title, text = RELEVANT[case]
    result = relevance(tagger, judge, text, title)
    assert result.relevant, f"{case}: score {result.score:.3f}, features {[k for k, v in result.features.items() if v]}"
    assert 0.0 <= result.score <= 1.0


@pytest.mark.parametrize("case", sorted(NOT_RELEVANT))
def test_negative_cues_keep_look_alikes_out(tagger, judge, case):
    title, text = NOT_RELEVANT[case]
    result = relevance(tagger, judge, text, title)
    assert not result.relevant, f"{case}: score {result.score:.3f}, features {[k for k, v in result.features.items() if v]}"
