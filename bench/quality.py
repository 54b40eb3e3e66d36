"""Cost of signal quality: newsmon's reading on top of spaCy in the tag stage, and ``decide``.

    .venv/bin/python -m bench.quality --articles 150

In one run, over the same real corpus articles that the first pass lets through (round-robin
Guardian, NYT, CNN; an article the first pass stops costs no spaCy at all, so it would only
flatter the ratio):

* the raw baseline: ``nlp.pipe`` alone (the same model and components, the same composed
  texts) — what the tag stage cost before windows, claims and scores existed is this plus
  actor linking, so a ratio against it is the conservative one;
* the same statistical pipeline as the tagger runs it (``Tagger.parse``, batched by tokens),
  so what newsmon's own reading costs is seen apart from how spaCy's batches are formed;
* the tag stage with the production Tagger on the whole text (the focus off) **without** its
  claim extractor and **with** it;
* the tag stage as the daemon runs it, focused on the lines that can hold evidence
  (``FirstPass.focus``), with the share of the tokens the focus keeps;
* each measured three times, interleaved (raw, parse, without, with, focused, raw, …), so a warm cache or a
  busy neighbour does not favour whichever runs last; the median is printed, in CPU time;
* ``decide`` (rules, MinHash signature, LSH/term story matching, novelty) per article, which
  runs on the detect agent's event loop: mean and p99 milliseconds;
* the size of the route's story state (the JSON the table writes to its changelog per article).

Issue 12's target: the tag stage within 1.15 x of its earlier CPU per article (on the whole
text, so the focus does not hide what the reading costs). For signal quality itself run
``newsmon eval``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from monitor.models import Article
from monitor.nlp.pipeline import compose_text
from monitor.nlp.pool import make_tagger
from monitor.nlp.tag import Tagger
from monitor.offline.readers import read_articles
from monitor.relevance.decision import Rulebook, decide
from monitor.relevance.stories import StoryBook
from monitor.settings import Settings
from monitor.watchlist import load_watchlist
from tests.support.paths import CONFIG, CORPUS

FILES = [
    CORPUS / "subina-maharjan_Guardians_Russia_Ukraine.csv",
    CORPUS / "subina-maharjan_NYT_Russia_Ukraine.csv",
    CORPUS / "mmdrzaco_latest_cnn_2024-07-16_to_2024-08-01_dedup.jsonl",
]


ROUNDS = 3


def candidates(tagger: Tagger, count: int) -> tuple[list[Article], list[str]]:
    """``count`` articles the first pass lets through, round-robin over ``FILES``, with their
    texts composed as the tagger composes them."""
    assert tagger.first_pass is not None, "the production tagger has a first pass"
    pools = [iter(read_articles([path])) for path in FILES]
    picked: list[Article] = []
    texts: list[str] = []
    turn = 0
    while pools and len(picked) < count:
        pool = pools[turn % len(pools)]
        article = next(pool, None)
        if article is None:
            pools.remove(pool)
            continue
        turn += 1
        text = compose_text(article, tagger.max_chars, tagger.passages)
        if tagger.first_pass.read(text).passes:
            picked.append(article)
            texts.append(text)
    return picked, texts


def cpu_of(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=150)
    args = parser.parse_args()
    settings = Settings()
    watchlist = load_watchlist(CONFIG / "watchlist.yaml")
    tagger = make_tagger(settings, watchlist)
    extractor = tagger.claim_extractor
    batch, texts = candidates(tagger, args.articles)
    # The tagger's own pipeline object: the same model and components, loaded once.
    nlp = tagger.nlp
    tagger.tag(batch[:8])  # warm-up
    list(nlp.pipe(texts[:8]))

    def whole(claims: bool) -> object:
        """The tag stage on the whole text (focus off), with or without claim extraction."""
        tagger.claim_extractor, tagger.focus = (extractor if claims else None), False
        try:
            return tagger.tag(batch)
        finally:
            tagger.claim_extractor, tagger.focus = extractor, True

    runs: dict[str, list[float]] = {"raw": [], "parse": [], "without": [], "with": [], "focused": []}
    for _ in range(ROUNDS):
        runs["raw"].append(cpu_of(lambda: list(nlp.pipe(texts, batch_size=settings.nlp_batch_size))))
        runs["parse"].append(cpu_of(lambda: list(tagger.parse([nlp.make_doc(t) for t in texts]))))
        runs["without"].append(cpu_of(lambda: whole(claims=False)))
        runs["with"].append(cpu_of(lambda: whole(claims=True)))
        runs["focused"].append(cpu_of(lambda: tagger.tag(batch)))
    raw_s, parse_s, without_s, with_s, focused_s = (
        statistics.median(runs[k]) for k in ("raw", "parse", "without", "with", "focused")
    )
    tagged = tagger.tag(batch)
    assert tagger.first_pass is not None
    whole_tokens = sum(len(nlp.make_doc(t)) for t in texts)
    kept_tokens = sum(len(nlp.make_doc(tagger.first_pass.focus(tagger.first_pass.read(t))[0])) for t in texts)

    policy = Rulebook(watchlist)
    books: dict[str, StoryBook] = {}
    costs = []
    for item in tagged:
        if not item.route:
            continue
        book = books.setdefault(item.route, StoryBook(item.route, window_s=settings.story_window_s))
        started = time.perf_counter()
        decide(book, item, policy)
        costs.append(time.perf_counter() - started)
    claims = sum(len(t.claims) for t in tagged)
    n = len(batch)
    print(f"articles: {n} the first pass lets through (route articles: {len(costs)}, claims extracted: {claims})")
    print(f"median CPU of {ROUNDS} interleaved rounds, per article:")
    print(f"  raw nlp.pipe          : {raw_s / n * 1000:6.1f} ms")
    print(f"  spaCy as tagged       : {parse_s / n * 1000:6.1f} ms  (the same pipeline, batched by tokens)")
    print(f"  tag without claims    : {without_s / n * 1000:6.1f} ms")
    print(f"  tag with claims       : {with_s / n * 1000:6.1f} ms  (whole text)")
    print(f"  tag, focused          : {focused_s / n * 1000:6.1f} ms  (as the daemon runs: the lines that can hold evidence)")
    print(f"focus keeps {kept_tokens / whole_tokens:.1%} of the tokens ({kept_tokens:,} of {whole_tokens:,})")
    print(f"ratio tag / raw spaCy   : {with_s / raw_s:6.3f}  (target <= 1.15: all of newsmon's reading on top of spaCy)")
    print(f"ratio tag / its spaCy   : {with_s / parse_s:6.3f}  (newsmon's reading alone, batching set aside)")
    print(f"ratio with / without    : {with_s / without_s:6.3f}  (what claim extraction adds)")
    print(f"ratio focused / raw     : {focused_s / raw_s:6.3f}  (issue 13: what the focus saves against raw spaCy)")
    if costs:
        ms = sorted(c * 1000 for c in costs)
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        print(f"decide per route article: mean {statistics.mean(ms):.2f} ms, p99 {p99:.2f} ms")
    for route, book in books.items():
        print(f"story state {route}: {len(book.stories)} stories, {len(json.dumps(book.state()))} bytes of JSON")
    spread = max((max(v) - min(v)) / statistics.median(v) for v in runs.values())
    print(f"round-to-round spread up to {spread:.0%} of a median: ratios within it of 1.0 are noise")
    print("every round: " + "; ".join(f"{k} {', '.join(f'{v:.1f}' for v in vs)} s" for k, vs in runs.items()))


if __name__ == "__main__":
    main()
