"""The text spaCy is given: an article's opening, and the passages of a long article that are kept.

The sentences are our own. ``opening_lines`` is shared by ``Passages.select`` (which paragraphs
of a long article are analysed) and ``FirstPass.focus`` (which lines are parsed), so both keep
the same opening.
"""

from __future__ import annotations

from monitor.nlp.pipeline import LEDE_CHARS, Passages, opening_lines

FILLER = "The weather in the valley stayed mild for the season, and farmers planted their fields early."


def test_the_opening_runs_to_lede_chars_of_lines():
    lines = [FILLER] * 40
    count = opening_lines(lines)
    # Every line of the opening starts before LEDE_CHARS; the next would start at or past it.
    assert sum(len(line) + 1 for line in lines[: count - 1]) < LEDE_CHARS <= sum(len(line) + 1 for line in lines[:count])


def test_the_opening_takes_more_lines_until_enough_of_them_are_filled():
    # One long line fills the characters; the lede's sentences are on the lines after it.
    lines = ["x" * LEDE_CHARS, "", "First sentence.", "", "Second sentence.", "Third sentence.", FILLER]
    assert opening_lines(lines) == 1
    assert opening_lines(lines, min_filled=3) == 5
    assert opening_lines(lines, min_filled=10) == len(lines)


def test_a_long_article_keeps_its_opening_and_the_paragraphs_that_link_both_sides(watchlist):
    link = "China agreed to send attack drones to Russia, two officials said."
    far = "Russia opened a new rail line to its eastern ports this spring."
    paragraphs = [*[FILLER] * 60, far, *[FILLER] * 30, link, *[FILLER] * 30]
    opening = "\n".join(paragraphs[: opening_lines(paragraphs)])
    body = "\n".join(paragraphs)
    kept = Passages(watchlist).select(body, budget=len(opening) + len(link) + 200)
    assert kept.startswith(opening)
    assert link in kept
    assert far not in kept, "a paragraph naming one side, with the other not in the opening, waits for budget"
    assert len(kept) <= len(opening) + len(link) + 200


def test_an_article_within_the_budget_is_analysed_whole(watchlist):
    body = "\n".join([FILLER] * 50)
    assert Passages(watchlist).select(body, budget=len(body)) == body
