"""The first pass changes no decision: every article it stops, the full pipeline decides the same.

An article the first pass lets through takes the same code path with the cascade on or off, and
an article it stops never reaches a story book, so the comparison that matters is: for every
article of the seeds, the 25 real feed snapshots and the non-reserved corpus files that the first
pass stops, the full statistical pipeline finds no watched pair and gives a decision identical
field by field. A second test replays whole files both ways and compares every decision.
"""

from __future__ import annotations

import io
import json

import pytest

from monitor.nlp.cascade import FirstPass
from monitor.nlp.pipeline import compose_text
from monitor.offline.readers import read_articles
from monitor.offline.replay import Replayer, replay
from monitor.relevance.decision import Rulebook, decide
from monitor.settings import Settings
from tests.support.paths import BLIND_FILE, CORPUS, FEEDS, SEEDS, shared_glob

pytestmark = [pytest.mark.shared, pytest.mark.timeout(3600)]

FIELDS = ("relevant", "topics", "story", "alert", "evidence", "claims", "score", "alert_id")


def corpus_files():
    files = sorted(SEEDS.glob("*.txt")) + shared_glob(FEEDS / "news", "*.xml")
    files += [p for p in sorted(CORPUS.glob("*")) if p.is_file() and p.suffix in (".jsonl", ".csv", ".json") and p != BLIND_FILE]
    assert BLIND_FILE not in files
    return files


def fields(decision) -> dict:
    return {name: json.loads(json.dumps(getattr(decision, name), default=lambda r: r.asdict())) for name in FIELDS}


def test_every_article_the_first_pass_stops_is_decided_the_same_by_the_full_pipeline(tagger, watchlist):
    first = FirstPass(tagger.nlp, watchlist)
    rulebook = Rulebook(watchlist, threshold=Settings().relevance_threshold)
    stopped, passed, batch = 0, 0, []

    def check(pending):
        texts = [text for _article, text, _named in pending]
        for (article, _text, named), doc in zip(pending, tagger.nlp.pipe(texts, batch_size=32)):
            full = tagger.tag_doc(article, doc)
            assert full.route == "", f"{article.id}: the first pass stopped an article naming {full.route}"
            assert fields(decide(None, full, rulebook).decision) == fields(
                decide(None, tagger.stopped(article, named), rulebook).decision
            )

    for article in read_articles(corpus_files()):
        text = compose_text(article, tagger.max_chars, tagger.passages)
        reading = first.read(text)
        named = reading.actors
        if reading.passes:
            passed += 1
            continue
        stopped += 1
        batch.append((article, text, named))
        if len(batch) == 64:
            check(batch)
            batch = []
    check(batch)
    # Most of a real feed mix names no watched pair; the corpus files of both sides all pass.
    assert stopped > 2500 and passed > 1800, (stopped, passed)


@pytest.mark.parametrize("name", ["seeds", "feed"])
def test_replaying_with_the_first_pass_on_or_off_gives_identical_decisions(tagger, watchlist, name):
    paths = sorted(SEEDS.glob("*.txt")) if name == "seeds" else shared_glob(FEEDS / "news", "*.xml")[:3]
    runs = []
    for on in (True, False):
        settings = Settings(first_pass=on)
        # The session's loaded pipeline, with its first pass switched for this run.
        saved = tagger.first_pass
        tagger.first_pass = FirstPass(tagger.nlp, watchlist) if on else None
        try:
            out = io.StringIO()
            replay(paths, Replayer(tagger, settings), out)
        finally:
            tagger.first_pass = saved
        runs.append([json.loads(line) for line in out.getvalue().splitlines()])
    on, off = runs
    assert len(on) == len(off) > 0
    for a, b in zip(on, off):
        assert a["id"] == b["id"]
        assert {k: a.get(k) for k in FIELDS} == {k: b.get(k) for k in FIELDS}, a["id"]
