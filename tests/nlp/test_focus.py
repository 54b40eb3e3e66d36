"""Focus: the statistical pipeline parses only the lines of an article that can hold evidence.

The sentences are our own. A line that names one side of the watched link, with the other side
neither in that line nor in the opening, can support no relevance and is left out; so is a line
naming no side. The opening, every line that can hold evidence and one line either side of it
are kept. The last test replays every non-reserved corpus file with the focus on and off and
compares every decision.
"""

from __future__ import annotations

import io
import json

import pytest

from monitor.models import Article
from monitor.nlp.cascade import OPENING_CHARS, FirstPass
from monitor.offline.replay import Replayer, replay
from monitor.settings import Settings
from tests.support.paths import BLIND_FILE, CORPUS

FILLER = "The weather in the valley stayed mild for the season, and farmers planted their fields early."
#: Enough neutral lines that the opening ends before the lines under test.
OPENING = "\n".join([FILLER] * (OPENING_CHARS // len(FILLER) + 2))

# Decision fields compared; a claim's ``index`` is its sentence's number among the sentences
# analysed, which counts fewer sentences when lines are left out, so it is compared as an order.
FIELDS = ("relevant", "topics", "story", "alert", "evidence", "claims", "score", "alert_id")


def focus(tagger, watchlist, text: str) -> tuple[str, set[str]]:
    first = FirstPass(tagger.nlp, watchlist)
    return first.focus(first.read(text))


def lines(*body: str) -> str:
    return "\n".join([OPENING, *body])


def test_a_line_naming_one_side_far_from_the_other_is_left_out(tagger, watchlist):
    far = "Russia opened a new rail line to its eastern ports this spring."
    link = "China agreed to send attack drones to Russia, two officials said."
    text = lines(far, FILLER, "Harvests were good.", "Prices fell.", FILLER, link, "Rain came late.", FILLER)
    kept, left_out = focus(tagger, watchlist, text)
    assert far not in kept
    assert kept.startswith(OPENING)
    # The line that links both sides, with the nearest line either side of it.
    assert f"{FILLER}\n{link}\nRain came late." in kept
    assert "Harvests were good." not in kept
    assert left_out == {"RUS"}


def test_a_line_naming_one_side_is_kept_when_the_opening_names_the_other(tagger, watchlist):
    opening = OPENING.replace(FILLER, "Officials in Beijing met their counterparts on Monday.", 1)
    text = "\n".join([opening, FILLER, "Prices fell.", FILLER, "Moscow asked for more artillery shells.", FILLER])
    kept, left_out = focus(tagger, watchlist, text)
    assert "Moscow asked for more artillery shells." in kept
    assert "Prices fell." not in kept
    assert left_out == set()


def test_an_article_in_which_no_line_can_hold_evidence_is_read_whole(tagger, watchlist):
    # Both sides are named, but far apart and not in the opening: not relevant either way, and
    # the whole text decides the route, as without the focus.
    text = lines("Russia opened a new rail line.", FILLER, FILLER, FILLER, "China launched a weather satellite.")
    assert focus(tagger, watchlist, text) == (text, set())


@pytest.mark.parametrize("text", ["China sent drones to Russia.", "Title.\n\nChina sent drones to Russia."])
def test_a_text_of_fewer_than_three_lines_is_read_whole(tagger, watchlist, text):
    assert focus(tagger, watchlist, text) == (text, set())


def test_an_actor_named_only_in_a_line_left_out_is_still_among_the_articles_actors(tagger):
    link = "China agreed to send attack drones to Russia, two officials said."
    body = lines(FILLER, "Prices fell.", "Ukraine reopened its grain ports.", "Prices rose.", FILLER, link, FILLER)
    article = Article(id="focus-actors", title="Harvest news.", text=body, url="https://example.org/focus")
    focused = tagger.tag([article])[0]
    saved = tagger.focus
    tagger.focus = False
    try:
        whole = tagger.tag([article])[0]
    finally:
        tagger.focus = saved
    assert "UKR" in focused.actors and focused.actors == whole.actors
    assert [(c.subject, c.action, c.object, c.sentence) for c in focused.claims] == [
        (c.subject, c.action, c.object, c.sentence) for c in whole.claims
    ]
    assert focused.claims, "the linking sentence makes a claim"
    assert focused.route == whole.route == "CHN|RUS"


def comparable(line: str) -> dict:
    record = json.loads(line)
    claims = record.get("claims") or []
    # Claims in their order, without the sentence numbers the two runs count differently.
    record["claims"] = [{k: v for k, v in claim.items() if k != "index"} for claim in claims]
    return {"id": record["id"]} | {k: record.get(k) for k in FIELDS}


@pytest.mark.shared
@pytest.mark.timeout(3600)
def test_replaying_the_corpus_with_the_focus_on_or_off_gives_identical_decisions(tagger):
    """Every non-reserved corpus article (the seeds and feed snapshots are replayed with the
    first pass, and so the focus, on and off in test_cascade.py)."""
    files = [p for p in sorted(CORPUS.glob("*")) if p.is_file() and p.suffix in (".jsonl", ".csv", ".json") and p != BLIND_FILE]
    assert BLIND_FILE not in files and len(files) >= 3
    runs = []
    saved = tagger.focus
    try:
        for on in (True, False):
            tagger.focus = on
            out = io.StringIO()
            replay(files, Replayer(tagger, Settings(focus_lines=on)), out)
            runs.append([comparable(line) for line in out.getvalue().splitlines()])
    finally:
        tagger.focus = saved
    on, off = runs
    assert len(on) == len(off) > 3000
    differing = [a["id"] for a, b in zip(on, off) if a != b]
    assert not differing, differing[:20]
    assert sum(bool(a["relevant"]) for a in on) > 40
