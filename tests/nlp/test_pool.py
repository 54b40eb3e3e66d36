"""The tag pool: spaCy runs off the event loop, and one poison article does not sink its batch."""

import asyncio
import time

import pytest

import monitor.nlp.pool as tagpool
from monitor.models import Article
from monitor.nlp.pool import TagPool
from monitor.offline.readers import read_articles
from tests.support.paths import SEEDS

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared


def test_tagging_in_a_process_keeps_the_event_loop_responsive(settings, watchlist):
    articles = list(read_articles(sorted(SEEDS.glob("*.txt")))) * 4
    pool = TagPool(settings.with_overrides(nlp_processes=1), watchlist)

    async def go():
        await pool.wait_ready()
        gaps, last = [], time.perf_counter()

        async def ticker():
            nonlocal last
            while True:
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        ticking = asyncio.create_task(ticker())
        started = time.perf_counter()
        results = await pool.tag(articles)
        busy = time.perf_counter() - started
        ticking.cancel()
        return results, gaps, busy

    try:
        results, gaps, busy = asyncio.run(go())
    finally:
        pool.stop()
    assert [r.article.id for r in results] == [a.id for a in articles]
    assert all(r.tagged is not None for r in results)
    assert busy > 0.5, "the batch took real NLP time"
    assert max(gaps) < 0.25, f"the loop stalled for {max(gaps):.2f} s while spaCy ran"


def test_a_poison_article_fails_alone_and_the_rest_of_its_batch_is_tagged(tagger, monkeypatch):
    def explode_on_poison(sentence, actors, evidence):
        if "POISON" in sentence.text:
            raise ValueError("claim extractor bug")
        return []

    monkeypatch.setattr(tagger, "claim_extractor", explode_on_poison)
    monkeypatch.setattr(tagpool, "_TAGGER", tagger)
    good = Article(id="good", text="Russia asked China for weapons.")
    bad = Article(id="bad", text="POISON: Russia asked China for weapons.")
    outcomes = tagpool._tag_payloads([a.dumps(serializer="json") for a in (good, bad, good)])
    assert [ok for ok, _ in outcomes] == [True, False, True]
    assert "claim extractor bug" in outcomes[1][1]
