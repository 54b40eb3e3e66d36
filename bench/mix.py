"""The realistic mix for ``bench.pipeline --mix realistic``: real feeds and corpus, cascade vs full.

Every item of the 25 real news feed snapshots (parsed from their bytes as the poller parses
them) and every non-reserved corpus article, in publication order, goes through the running
worker twice — with the first pass (cascade) and with ``first_pass`` off (full) — and through
raw ``nlp.pipe`` on the same composed texts, in one run. A third, profiled cascade run shows
where the worker's own process (Faust, JSON, Kafka; spaCy is in the pool's child) spends its
time per article. ``--limit`` takes an evenly spread sample, so a quick run keeps the mix's
share of feeds and corpus rather than only its oldest articles.

The same invocation then measures the corpus-only mix (the mix's corpus articles, no feed
items) with one worker, and with two workers on the partitions (first pass off: the spaCy work
raw spaCy does) against raw ``nlp.pipe`` in two processes on the same texts, and ends with the
issue's targets beside the figures; beside the realistic mix, the feed-stream mix (the mix
without the development set's two extracts, in which every article names both sides). Every
ratio against raw spaCy is the median of ``ROUNDS`` interleaved rounds, each round's pipeline
against the raw figure measured just before it: one sample of either side moves by a third
between runs on this machine.
"""

from __future__ import annotations

import os
import pstats
import statistics
import tempfile
from collections import Counter
from pathlib import Path

from bench.pipeline import (
    RunResult,
    _p,
    percentile,
    raw_spacy,
    raw_spacy_parallel,
    run_pipeline,
    with_developments,
)
from bench.resources import mib
from monitor.models import Article
from monitor.offline.readers import read_articles
from monitor.settings import Settings
from tests.support.paths import BLIND_FILE, CORPUS, FEEDS

CORPUS_FILES = (
    "subina-maharjan_Guardians_Russia_Ukraine.csv",
    "subina-maharjan_NYT_Russia_Ukraine.csv",
    "mmdrzaco_latest_cnn_2024-07-16_to_2024-08-01_dedup.jsonl",
    "realtimeqa_2012-2022_russia_china.jsonl",
    "article-bias-prediction_2012-2020_russia_china.jsonl",
)
#: The two extracts drawn for the labelled development set because every article in them names
#: both Russia and China (``../shared/corpus/SOURCES.md``): no feed is like that. The issue's
#: own figures (2 relevant of 1,131 feed items; 64 of 1,901 articles naming both sides) describe
#: the mix without them, which the *feed-stream mix* measures beside the whole mix.
DEV_SET_EXTRACTS = ("realtimeqa", "article-bias-prediction")
PROFILE_TOP = 15
#: Left out of the profile table: the event loop's own frames (their cumulative time is the
#: whole run, idle waits included) and loading code, paid once at start, not per article.
NOT_PER_ARTICLE = ("importlib", "asyncio/base_events.py", "asyncio/events.py", "selectors.py")
NOT_PER_ARTICLE_NAMES = (
    "<module>",
    "<method 'run' of '_contextvars.Context' objects>",
    "<method 'poll' of 'select.epoll' objects>",
    "<built-in method builtins.__import__>",
    "<built-in method builtins.__build_class__>",
    "<built-in method builtins.exec>",
    "<built-in method builtins.compile>",
    "<built-in method marshal.loads>",
)


def mix_files() -> list[Path]:
    feeds = sorted(p for p in (FEEDS / "news").glob("*.xml") if p.is_file())
    corpus = [CORPUS / name for name in CORPUS_FILES]
    files = feeds + corpus
    assert BLIND_FILE not in files
    missing = [p for p in files if not p.is_file()]
    if len(feeds) != 25 or missing:
        raise SystemExit(f"the realistic mix needs the shared data: {len(feeds)} feed snapshots, missing {missing}")
    return files


def load_mix() -> tuple[list[Article], dict[str, str]]:
    """Every article of the mix in publication order (undated ones last, in file order), each
    under a unique bench id; and where each came from ("feeds" or the corpus file), by id."""
    feeds, found = FEEDS / "news", []
    for path in mix_files():
        origin = "feeds" if path.parent == feeds else path.stem.split("_")[0]
        found += [(article, origin) for article in read_articles([path])]
    found.sort(key=lambda pair: pair[0].published.timestamp() if pair[0].published else float("inf"))
    mix = [(article.derive(id=f"mix-{i:06d}-{article.id}"), origin) for i, (article, origin) in enumerate(found)]
    return [article for article, _ in mix], {article.id: origin for article, origin in mix}


def spread(articles: list[Article], limit: int) -> tuple[list[Article], list[Article]]:
    """(``limit`` articles evenly spread over ``articles``, in order; the rest, in order)."""
    if limit <= 0 or limit >= len(articles):
        return list(articles), []
    picked = {int(i * len(articles) / limit) for i in range(limit)}
    return [a for i, a in enumerate(articles) if i in picked], [a for i, a in enumerate(articles) if i not in picked]


def first_pass_share(articles: list[Article], settings: Settings, origins: dict[str, str]) -> str:
    """How many of ``articles`` the first pass sends on to spaCy (the rest are decided at once),
    in all and by origin."""
    from monitor.nlp.cascade import FirstPass
    from monitor.nlp.pipeline import Passages, build_nlp, compose_text
    from monitor.watchlist import load_watchlist

    watchlist = load_watchlist(settings.config_dir / "watchlist.yaml")
    nlp = build_nlp(settings.spacy_model, watchlist)
    first, passages = FirstPass(nlp, watchlist), Passages(watchlist)
    seen: Counter[str] = Counter()
    passed: Counter[str] = Counter()
    for article in articles:
        seen[origins[article.id]] += 1
        passed[origins[article.id]] += first.read(compose_text(article, settings.max_text_chars, passages)).passes
    total = sum(passed.values())
    by_origin = ", ".join(f"{origin} {passed[origin]}/{count}" for origin, count in sorted(seen.items()))
    return f"the first pass sends {total} of {len(articles)} articles to spaCy ({total / len(articles):.0%}; {by_origin})"


def print_profile(path: Path, articles: int) -> None:
    """The top functions by cumulative time, leaving out the event loop and loading code (the
    worker is profiled from its start to its exit)."""
    table = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    rows = [
        (cumulative, total, calls, f"{Path(file).name}:{line}({name})")
        for (file, line, name), (_prim, calls, total, cumulative, _callers) in table.items()
        if not any(part in file for part in NOT_PER_ARTICLE) and name not in NOT_PER_ARTICLE_NAMES
    ]
    rows.sort(reverse=True)
    print(
        f"\ncProfile of the worker's main process (cascade run, {articles} articles), top {PROFILE_TOP} by cumulative "
        "time (event loop and imports left out):"
    )
    print(f"  {'cumulative s':>12} {'ms/article':>10} {'own s':>8} {'calls':>9}  function")
    for cumulative, total, calls, where in rows[:PROFILE_TOP]:
        print(f"  {cumulative:12.2f} {cumulative / articles * 1000:10.2f} {total:8.2f} {calls:9d}  {where}")
    own = sorted(rows, key=lambda row: row[1], reverse=True)[:PROFILE_TOP]
    print(f"  top {PROFILE_TOP} by own time: " + "; ".join(f"{where} {total:.2f} s" for _c, total, _n, where in own))


def _report(name: str, result: RunResult, raw_rate: float, raw_cpu: float) -> None:
    print(
        f"\n{name}: {result.per_second:.2f} articles/s = {result.per_second / raw_rate:.2f} x raw spaCy; "
        f"{result.decisions} decisions"
    )
    print(
        f"  CPU per article: {result.cpu_per_article * 1000:.1f} ms all worker processes, "
        f"{result.main_cpu_per_article * 1000:.1f} ms the worker's main process (raw spaCy {raw_cpu * 1000:.0f} ms)"
    )
    if len(result.worker_cpu) > 1:
        print(
            "  CPU by worker (main process alone): "
            + ", ".join(
                f"{role} {cpu:.1f} s ({result.main_cpu_by_worker.get(role, 0.0):.1f} s)"
                for role, cpu in sorted(result.worker_cpu.items())
            )
        )
        busiest, mean = max(result.worker_cpu.values()), statistics.mean(result.worker_cpu.values())
        print(
            f"  the busiest worker did {busiest / mean - 1:.1%} more than the mean (keys hashed to partitions: a finite "
            f"batch never splits evenly); in {result.elapsed_s:.1f} s the workers used "
            f"{sum(result.worker_cpu.values()) / (result.elapsed_s * (os.cpu_count() or 1)):.0%} of the cores, "
            f"the broker {result.broker_cpu:.1f} s and the bench's producer and reader {result.bench_cpu:.1f} s"
        )
    print(f"  latency produce->tagged p50/p95/p99, paced at half capacity: {_p(result.paced_tagged)}")
    print(f"  latency produce->alert  p50/p95/p99, paced at half capacity: {_p(result.paced_alert)}")
    print(f"  latency produce->alert  p50/p95/p99, bulk:                   {_p(result.alert_latency)}")
    print(
        "  peak RSS: "
        + ", ".join(
            f"{role} {mib(rss)}"
            + (f" (main process alone {mib(result.peak_own_rss[role])})" if role.startswith("worker") else "")
            for role, rss in result.peak_rss.items()
        ),
        flush=True,
    )


#: Rounds of every comparison with raw spaCy. One round of the two-worker comparison has given
#: 0.87 to 1.08 of raw on this machine, and raw spaCy alone swung 36 % between runs a minute
#: apart; so each ratio is the median of interleaved rounds (raw, pipeline, raw, pipeline, ...),
#: each round's pipeline against the raw figure measured just before it.
ROUNDS = 3


def median_ratio(rounds: list[tuple[float, RunResult]]) -> tuple[float, list[float]]:
    """The median of the rounds' pipeline/raw ratios, and the ratios in round order."""
    ratios = [result.per_second / raw for raw, result in rounds]
    return statistics.median(ratios), ratios


def _ratios(rounds: list[tuple[float, RunResult]]) -> str:
    median, ratios = median_ratio(rounds)
    return f"median {median:.2f} x of {len(ratios)} interleaved rounds ({', '.join(f'{r:.2f}' for r in ratios)})"


def realistic_rounds(
    articles: list[Article], paced: list[Article], partitions: int, base: Settings
) -> tuple[list[tuple[float, RunResult]], list[tuple[float, RunResult]], float]:
    """``ROUNDS`` interleaved rounds of raw spaCy, the cascade and the full pipeline on the
    realistic mix; the paced phase (latency) only in the first round. Returns (cascade rounds,
    full rounds, raw CPU s/article of the first round), each round as (raw /s, result)."""
    cascades, fulls, first_cpu = [], [], 0.0
    for round_no in range(1, ROUNDS + 1):
        raw_rate, raw_cpu = raw_spacy(articles, base)
        first_cpu = first_cpu or raw_cpu
        print(
            f"\nround {round_no}: raw spaCy nlp.pipe, full pipeline (same texts, composed as the tagger composes them, "
            f"1 process): {raw_rate:.2f} articles/s, {raw_cpu * 1000:.0f} ms CPU/article",
            flush=True,
        )
        paced_now = paced if round_no == 1 else []
        cascade = run_pipeline(articles, paced_now, 1, partitions, base.with_overrides(first_pass=True))
        _report(f"round {round_no}: cascade (first pass on)", cascade, raw_rate, raw_cpu)
        full = run_pipeline(articles, paced_now, 1, partitions, base.with_overrides(first_pass=False))
        _report(f"round {round_no}: full (MONITOR_FIRST_PASS=false)", full, raw_rate, raw_cpu)
        print(
            f"  round {round_no}: cascade {cascade.per_second / raw_rate:.2f} x raw, full {full.per_second / raw_rate:.2f} x raw, "
            f"cascade = {cascade.per_second / full.per_second:.2f} x full",
            flush=True,
        )
        cascades.append((raw_rate, cascade))
        fulls.append((raw_rate, full))
    return cascades, fulls, first_cpu


def corpus_and_scale_out(
    mix: list[Article], origins: dict[str, str], limit: int, partitions: int, base: Settings
) -> tuple[list[tuple[float, RunResult]], list[tuple[float, RunResult]]]:
    """The corpus-only mix: the mix's corpus articles without the feed items (``limit`` spread
    evenly). In each of ``ROUNDS`` interleaved rounds: raw spaCy in one process, one worker as
    shipped (first pass on); raw spaCy in two processes at once on the same texts, two workers
    on the partitions with the first pass off (so they do the spaCy work raw spaCy does).
    Returns ([(raw 1 /s, 1 worker)], [(raw 2 /s, 2 workers)]), one pair per round. No paced
    phase: latency comes from the realistic mix."""
    articles = spread([a for a in mix if origins[a.id] != "feeds"], limit)[0]
    print(
        f"\ncorpus-only mix: {len(articles)} corpus articles of the mix, no feed items; "
        f"{first_pass_share(articles, base, origins)}",
        flush=True,
    )
    ones, twos = [], []
    for round_no in range(1, ROUNDS + 1):
        raw_rate, raw_cpu = raw_spacy(articles, base)
        print(f"\nround {round_no}: raw spaCy 1 process {raw_rate:.2f}/s ({raw_cpu * 1000:.0f} ms CPU/article)", flush=True)
        one = run_pipeline(articles, [], 1, partitions, base.with_overrides(first_pass=True))
        _report(f"round {round_no}: corpus-only, 1 worker, first pass on", one, raw_rate, raw_cpu)
        raw_two = raw_spacy_parallel(articles, base, 2)
        print(f"\nround {round_no}: raw spaCy in 2 processes at once {raw_two:.2f}/s = {raw_two / raw_rate:.2f} x 1", flush=True)
        two = run_pipeline(articles, [], 2, partitions, base.with_overrides(first_pass=False))
        _report(f"round {round_no}: corpus-only, 2 workers on {partitions} partitions, first pass off", two, raw_rate, raw_cpu)
        print(
            f"  round {round_no}: 1 worker = {one.per_second / raw_rate:.2f} x raw, "
            f"2 workers = {two.per_second / raw_two:.2f} x raw in 2 processes",
            flush=True,
        )
        ones.append((raw_rate, one))
        twos.append((raw_two, two))
    return ones, twos


def feed_stream_rounds(
    mix: list[Article], origins: dict[str, str], limit: int, partitions: int, base: Settings
) -> list[tuple[float, RunResult]]:
    """The feed-stream mix: the mix without the development set's extracts (the feed items and
    the three 2022-2024 corpus files, ``limit`` spread evenly). ``ROUNDS`` interleaved rounds of
    raw spaCy and one worker as shipped (first pass on); returns [(raw /s, worker)]."""
    articles = spread([a for a in mix if origins[a.id] not in DEV_SET_EXTRACTS], limit)[0]
    print(
        f"\nfeed-stream mix: {len(articles)} articles of the mix, without the development set's extracts "
        f"({', '.join(DEV_SET_EXTRACTS)}); {first_pass_share(articles, base, origins)}",
        flush=True,
    )
    rounds = []
    for round_no in range(1, ROUNDS + 1):
        raw_rate, raw_cpu = raw_spacy(articles, base)
        print(f"\nround {round_no}: raw spaCy 1 process {raw_rate:.2f}/s ({raw_cpu * 1000:.0f} ms CPU/article)", flush=True)
        one = run_pipeline(articles, [], 1, partitions, base.with_overrides(first_pass=True))
        _report(f"round {round_no}: feed-stream mix, 1 worker, first pass on", one, raw_rate, raw_cpu)
        rounds.append((raw_rate, one))
    return rounds


def feed_stream_main(limit: int, partitions: int) -> int:
    """``--mix feed-stream``: the feed-stream rounds alone, on all of it unless ``limit``."""
    base = Settings(config_dir=Path(__file__).resolve().parents[1] / "config", poller_metrics_port=0, worker_metrics_port=0)
    mix, origins = load_mix()
    print(f"newsmon pipeline benchmark, feed-stream mix; {os.cpu_count()} cores, 1 worker, {partitions} partitions", flush=True)
    rounds = feed_stream_rounds(mix, origins, limit, partitions, base)
    print(f"\nfeed-stream mix, 1 worker, cascade against raw spaCy: {_ratios(rounds)}")
    cpu = statistics.median(result.cpu_per_article for _raw, result in rounds)
    print(
        f"  CPU per article (median of rounds, all worker processes): {cpu * 1000:.1f} ms; worker peak RSS "
        f"{mib(max(_worker_rss(r) for _raw, r in rounds))}"
    )
    return 0


def _worker_rss(result: RunResult) -> int:
    return max((rss for role, rss in result.peak_rss.items() if role.startswith("worker")), default=0)


def main(limit: int, paced_count: int, partitions: int, profile: bool) -> int:
    base = Settings(config_dir=Path(__file__).resolve().parents[1] / "config", poller_metrics_port=0, worker_metrics_port=0)
    mix, origins = load_mix()
    counts = Counter("feeds" if origin == "feeds" else "corpus" for origin in origins.values())
    articles, rest = spread(mix, limit)
    # Paced: other articles of the mix, with the invented developments so alert latency has samples.
    pool = rest or [a.derive(id=f"paced-{a.id}") for a in mix]
    paced = with_developments(spread(pool, paced_count)[0], phase=1) if paced_count else []
    print(
        f"newsmon pipeline benchmark, realistic mix: {len(articles)} of {len(mix)} articles "
        f"({counts['feeds']} feed items, {counts['corpus']} corpus articles; --limit {limit or 'none'}), "
        f"{len(paced)} paced; {os.cpu_count()} cores; batch {base.nlp_batch_size}, "
        f"{base.nlp_processes} NLP process(es) per worker, 1 worker, {partitions} partitions",
        flush=True,
    )
    print(first_pass_share(articles, base, origins), flush=True)
    cascades, fulls, raw_cpu = realistic_rounds(articles, paced, partitions, base)
    cascade = cascades[0][1]
    ones, twos = corpus_and_scale_out(mix, origins, limit, partitions, base)
    streams = feed_stream_rounds(mix, origins, limit, partitions, base)
    paced_p99 = percentile(cascade.paced_alert, 99)
    print(f"\nissue 13 targets ({os.cpu_count()} cores; each ratio against raw spaCy measured just before it, in this run):")
    print(f"  realistic mix, 1 worker >= 10 x raw:        cascade {_ratios(cascades)}; full {_ratios(fulls)}")
    print(f"     beside it, the feed-stream mix (no development-set extracts), cascade: {_ratios(streams)}")
    print(f"  corpus-only mix, 1 worker >= 1.0 x raw:     {_ratios(ones)}")
    print(
        f"  2 workers on {partitions} partitions >= 0.95 x raw in 2 processes (first pass off, the same spaCy work): "
        f"{_ratios(twos)}"
    )
    print(f"  paced produce->alert p99 <= 2 s (cascade, round 1):  {paced_p99:.2f} s; p50/p95/p99 {_p(cascade.paced_alert)}")
    cpu = statistics.median(result.cpu_per_article for _raw, result in cascades)
    main_cpu = statistics.median(result.main_cpu_per_article for _raw, result in cascades)
    print(
        f"  CPU per article (cascade, median of rounds; all worker processes / main process): {cpu * 1000:.1f} / "
        f"{main_cpu * 1000:.1f} ms (raw spaCy {raw_cpu * 1000:.0f} ms in round 1)"
    )
    print(
        f"  worker peak RSS <= 600 MiB (main + spaCy process, largest of the rounds): "
        f"cascade {mib(max(_worker_rss(r) for _raw, r in cascades))}, full {mib(max(_worker_rss(r) for _raw, r in fulls))}, "
        f"corpus {mib(max(_worker_rss(r) for _raw, r in ones))}, 2 workers {mib(max(_worker_rss(r) for _raw, r in twos))}",
        flush=True,
    )
    if profile:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "worker.prof"
            # A separate run: the profiler's overhead must not colour the throughput above.
            run_pipeline(articles, [], 1, partitions, base.with_overrides(first_pass=True), ["-m", "cProfile", "-o", str(out)])
            if out.is_file():
                print_profile(out, len(articles))
            else:
                print("\ncProfile: the worker wrote no profile (did it exit cleanly?)")
    return 0
