"""Cost of signal quality: claim extraction inside the tag stage and story matching in detect.

    .venv/bin/python -m bench.quality --articles 400

In one run, over the same real corpus articles (round-robin Guardian, NYT, CNN):

* the tag stage with the production Tagger **without** a claim extractor (the raw baseline:
  spaCy + actor ruler + triggers) and **with** it — articles/s and the ratio; claims reuse the
  parse, so the ratio should stay close to 1;
* ``decide`` (rules, MinHash signature, LSH/term story matching, novelty) per article, which
  runs on the detect agent's event loop: mean and p99 milliseconds, route articles only;
* the size of the route's story state (the JSON the table writes to its changelog per article).

For signal quality itself run ``newsmon eval``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time

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


def articles(count: int):
    pools = [iter(read_articles([path])) for path in FILES]
    picked = []
    for pool in itertools.cycle(pools):
        if len(picked) >= count:
            break
        article = next(pool, None)
        if article is not None:
            picked.append(article)
    return picked


def timed_tag(tagger: Tagger, batch) -> tuple[float, list]:
    started = time.perf_counter()
    tagged = tagger.tag(batch)
    return time.perf_counter() - started, tagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400)
    args = parser.parse_args()
    settings = Settings()
    watchlist = load_watchlist(CONFIG / "watchlist.yaml")
    tagger = make_tagger(settings, watchlist)
    extractor = tagger.claim_extractor
    batch = articles(args.articles)
    tagger.tag(batch[:8])  # warm-up

    tagger.claim_extractor = None
    raw_s, _ = timed_tag(tagger, batch)
    tagger.claim_extractor = extractor
    with_s, tagged = timed_tag(tagger, batch)

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
    print(f"articles: {len(batch)}  (route articles: {len(costs)}, claims extracted: {claims})")
    print(f"tag without claims : {len(batch) / raw_s:7.1f} articles/s  ({raw_s:.1f} s)")
    print(f"tag with claims    : {len(batch) / with_s:7.1f} articles/s  ({with_s:.1f} s)")
    print(f"ratio with/without : {with_s / raw_s:7.3f}  (time; 1.0 = claims cost nothing)")
    if costs:
        ms = sorted(c * 1000 for c in costs)
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        print(f"decide per route article: mean {statistics.mean(ms):.2f} ms, p99 {p99:.2f} ms")
    for route, book in books.items():
        print(f"story state {route}: {len(book.stories)} stories, {len(json.dumps(book.state()))} bytes of JSON")
    print("figures are provisional: a shared 2-core machine; the lead re-measures on a quiet one")


if __name__ == "__main__":
    main()
