"""Pipeline throughput against raw spaCy, on the embedded broker, in one run.

    .venv/bin/python -m bench.pipeline --articles 600 --workers 1 2
    .venv/bin/python -m bench.pipeline --mix realistic --limit 1000

For each worker count: a fresh embedded broker, N real corpus articles produced at once to the
articles topic, W ``newsmon worker`` processes, wait until every article has its decision.
In the same run: raw ``nlp.pipe`` over the same texts with the same pipeline (model + actor
ruler + sentence splitter). Prints articles/s, the ratio pipeline / raw, latency percentiles
from produce to tagged and to alert (bulk: everything queued at once; paced: articles
arriving at half the measured capacity), CPU seconds per article and peak RSS per process.
The poller is not running (idle), as the issue asks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from kafka import KafkaProducer

from bench.developments import development_articles
from bench.resources import ResourceSampler, mib
from monitor.models import Article
from monitor.offline.readers import read_articles
from monitor.runtime.broker import EmbeddedBroker
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics
from monitor.settings import Settings
from tests.support.kafka import read_topic
from tests.support.paths import CONFIG, CORPUS
from tests.support.worker import WorkerProcess

SOURCES = {
    "guardian": CORPUS / "subina-maharjan_Guardians_Russia_Ukraine.csv",
    "nyt": CORPUS / "subina-maharjan_NYT_Russia_Ukraine.csv",
    "cnn": CORPUS / "mmdrzaco_latest_cnn_2024-07-16_to_2024-08-01_dedup.jsonl",
}


def with_developments(articles: list[Article], phase: int = 0) -> list[Article]:
    """``articles`` with the thirty invented developments spread evenly through them.

    Real corpus articles almost never alert (one in 600), so without these the alert
    latency would rest on one sample. They replace corpus articles, keeping the count.
    Each ``phase`` dates them a month later under new ids, so they open new stories.
    """
    start = datetime(2031, 3, 2, 8, 0, tzinfo=UTC) + timedelta(days=30 * phase)
    developments = [article.derive(id=f"p{phase}-{article.id}") for _, article in development_articles(start=start, reports=1)]
    if not developments or len(articles) < 2 * len(developments):
        return articles
    every = len(articles) // len(developments)
    mixed = list(articles)
    for index, article in enumerate(developments):
        mixed[index * every + every // 2] = article
    return mixed


def load_articles(count: int, sources: list[str]) -> list[Article]:
    """``count`` real articles, round-robin over the sources, each with a unique bench id."""
    pools = [list(read_articles([SOURCES[name]])) for name in sources]
    picked: list[Article] = []
    index = 0
    while len(picked) < count and any(pools):
        pool = pools[index % len(pools)]
        if pool:
            article = pool.pop(0)
            picked.append(article.derive(id=f"bench-{len(picked):06d}-{article.id}"))
        index += 1
    return picked


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def raw_spacy(articles: list[Article], settings: Settings) -> tuple[float, float]:
    """(articles/s, CPU s/article) of nlp.pipe alone, same texts, same components."""
    from monitor.nlp.pipeline import Passages, build_nlp, compose_text
    from monitor.watchlist import load_watchlist

    watchlist = load_watchlist(CONFIG / "watchlist.yaml")
    nlp = build_nlp(settings.spacy_model, watchlist)
    # Composed as the tagger composes them: for a long article, the passages that matter.
    passages = Passages(watchlist)
    texts = [compose_text(a, settings.max_text_chars, passages) for a in articles]
    list(nlp.pipe(texts[:8]))  # warm up
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=settings.nlp_batch_size):
        pass
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return len(texts) / wall, cpu / len(texts)


def _raw_share(texts: list[str], batch_size: int, model: str, conn) -> None:
    """Child: raw nlp.pipe over its share of the texts; sends back its wall seconds."""
    from monitor.nlp.pipeline import build_nlp
    from monitor.watchlist import load_watchlist

    nlp = build_nlp(model, load_watchlist(CONFIG / "watchlist.yaml"))
    list(nlp.pipe(texts[:8]))  # warm up
    conn.send("ready")
    conn.recv()  # start together
    began = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=batch_size):
        pass
    conn.send(time.perf_counter() - began)


def raw_spacy_parallel(articles: list[Article], settings: Settings, processes: int) -> float:
    """articles/s of raw nlp.pipe in ``processes`` processes at once, each on an interleaved
    share of the texts: what the cores give spaCy alone, the ceiling for scale-out."""
    import multiprocessing

    from monitor.nlp.pipeline import Passages, compose_text
    from monitor.watchlist import load_watchlist

    passages = Passages(load_watchlist(CONFIG / "watchlist.yaml"))
    texts = [compose_text(a, settings.max_text_chars, passages) for a in articles]
    context = multiprocessing.get_context("spawn")
    pipes, children = [], []
    for index in range(processes):
        parent, child = context.Pipe()
        proc = context.Process(
            target=_raw_share, args=(texts[index::processes], settings.nlp_batch_size, settings.spacy_model, child)
        )
        proc.start()
        pipes.append(parent)
        children.append(proc)
    for pipe in pipes:
        pipe.recv()
    began = time.perf_counter()
    for pipe in pipes:
        pipe.send("go")
    for pipe in pipes:
        pipe.recv()
    wall = time.perf_counter() - began
    for proc in children:
        proc.join()
    return len(texts) / wall


@dataclass
class RunResult:
    workers: int
    per_second: float
    cpu_per_article: float
    tagged_latency: list[float]
    alert_latency: list[float]
    paced_tagged: list[float]
    paced_alert: list[float]
    peak_rss: dict[str, int]
    decisions: int
    #: Peak RSS of each process alone (a worker's main process without its spaCy process).
    peak_own_rss: dict[str, int] = field(default_factory=dict)
    main_cpu_per_article: float = 0.0  # the worker's own process: Faust, JSON, Kafka, no spaCy
    #: CPU seconds of each worker (with its spaCy process): how evenly the partitions shared the work.
    worker_cpu: dict[str, float] = field(default_factory=dict)
    #: CPU seconds of each worker's main process alone: Faust, tag hand-off, detect, delivery.
    main_cpu_by_worker: dict[str, float] = field(default_factory=dict)
    #: The bulk phase's wall seconds, and the CPU seconds the broker and this process (the
    #: producer, the decisions reader) took in it: on two cores they compete with the workers.
    elapsed_s: float = 0.0
    broker_cpu: float = 0.0
    bench_cpu: float = 0.0


def _produce(producer: KafkaProducer, topic: str, articles: list[Article], rate: float | None = None) -> dict[str, float]:
    """Send articles (at ``rate`` per second if given); return produce time (ms) by article id."""
    sent: dict[str, float] = {}
    began = time.time()
    for index, article in enumerate(articles):
        if rate:
            due = began + index / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
        sent[article.id] = time.time() * 1000
        producer.send(topic, key=article.id.encode(), value=article.dumps(serializer="json"))
    producer.flush()
    return sent


def _latencies(url: str, topic: str, sent: dict[str, float], id_of, expected: int = 0) -> list[float]:
    """Produce-to-record seconds for the ``sent`` articles found in ``topic`` (read until
    ``expected`` records are there, or 2 s for topics whose count is not known)."""
    if expected:
        records = read_topic(url, topic, until=lambda r: len(r) >= expected, timeout_s=60)
    else:
        records = read_topic(url, topic, timeout_s=2, settle_s=1)
    out = []
    for record in records:
        article_id = id_of(json.loads(record.value))
        if article_id in sent:
            out.append((record.timestamp - sent[article_id]) / 1000)
    return out


def run_pipeline(
    articles: list[Article],
    paced: list[Article],
    workers: int,
    partitions: int,
    base: Settings,
    python_args: list[str] | None = None,
) -> RunResult:
    """Bulk phase (all articles queued at once), then a paced phase at half that capacity.
    ``python_args`` go to each worker's interpreter (the realistic mix profiles one)."""
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(log_path=Path(tmp) / "broker.log") as broker:
        settings = base.with_overrides(
            broker_url=broker.url, embedded_broker=True, partitions=partitions, data_dir=Path(tmp) / "data"
        )
        ensure_topics(settings)
        names = KafkaTopicNames.for_settings(settings)
        sampler = ResourceSampler()
        sampler.watch("broker", broker.process.pid)
        procs = []
        for index in range(workers):
            procs.append(WorkerProcess(settings.as_env(), Path(tmp) / f"worker-{index}.log", python_args).start())
            sampler.watch(f"worker-{index}", procs[-1].process.pid)
        # Every worker has joined and owns partitions once all report ready; let a rebalance settle.
        time.sleep(2)
        producer = KafkaProducer(bootstrap_servers=broker.url, linger_ms=5, max_request_size=16 * 2**20)
        mains = [psutil.Process(proc.process.pid) for proc in procs]
        sampler.start()
        main_before = [_cpu(p) for p in mains]
        bench_before = time.process_time()
        began = time.time()
        sent = _produce(producer, names.articles, articles)
        decisions = read_topic(broker.url, names.decisions, until=lambda r: len(r) >= len(articles), timeout_s=3600)
        last = max(r.timestamp for r in decisions) / 1000 if decisions else time.time()
        elapsed = last - began
        bench_cpu = time.process_time() - bench_before
        stats = sampler.stop()
        main_by_worker = {f"worker-{n}": _cpu(p) - before for n, (p, before) in enumerate(zip(mains, main_before, strict=True))}
        main_cpu = sum(main_by_worker.values())
        tagged = _latencies(broker.url, names.tagged, sent, lambda v: v["article"]["id"], expected=len(articles))
        alerts = _latencies(broker.url, names.alerts, sent, lambda v: v["article_id"])
        paced_tagged: list[float] = []
        paced_alert: list[float] = []
        if paced:
            paced_sent = _produce(producer, names.articles, paced, rate=max(0.5, len(articles) / elapsed / 2))
            read_topic(broker.url, names.decisions, until=lambda r: len(r) >= len(articles) + len(paced), timeout_s=3600)
            paced_tagged = _latencies(
                broker.url, names.tagged, paced_sent, lambda v: v["article"]["id"], expected=len(articles) + len(paced)
            )
            paced_alert = _latencies(broker.url, names.alerts, paced_sent, lambda v: v["article_id"])
        producer.close()
        for proc in procs:
            proc.stop()
        worker_cpu = sum(s.cpu_seconds for role, s in stats.items() if role.startswith("worker"))
        return RunResult(
            workers=workers,
            per_second=len(articles) / elapsed,
            cpu_per_article=worker_cpu / len(articles),
            tagged_latency=tagged,
            alert_latency=alerts,
            paced_tagged=paced_tagged,
            paced_alert=paced_alert,
            peak_rss={role: s.peak_rss for role, s in stats.items()},
            peak_own_rss={role: s.peak_own_rss for role, s in stats.items()},
            decisions=len(decisions),
            main_cpu_per_article=main_cpu / len(articles),
            worker_cpu={role: s.cpu_seconds for role, s in stats.items() if role.startswith("worker")},
            main_cpu_by_worker=main_by_worker,
            elapsed_s=elapsed,
            broker_cpu=stats["broker"].cpu_seconds if "broker" in stats else 0.0,
            bench_cpu=bench_cpu,
        )


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def _p(values: list[float]) -> str:
    if not values:
        return "n/a"
    return " / ".join(f"{percentile(values, q):.2f}" for q in (50, 95, 99)) + f" s (n={len(values)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--sources", nargs="+", default=["nyt", "guardian", "cnn"], choices=sorted(SOURCES))
    parser.add_argument("--paced", type=int, default=100, help="articles for the paced-latency phase (0: skip)")
    parser.add_argument(
        "--mix",
        choices=["corpus", "realistic", "feed-stream"],
        default="corpus",
        help="corpus: --articles from --sources; realistic: every real feed item and non-reserved corpus "
        "article in publication order, cascade and full pipeline against raw spaCy (bench/mix.py); "
        "feed-stream: only the realistic mix's feed-stream rounds (no development-set extracts)",
    )
    parser.add_argument("--limit", type=int, default=0, help="realistic mix: at most N articles, evenly spread (0: all)")
    parser.add_argument("--no-profile", action="store_true", help="realistic mix: skip the profiled cascade run")
    args = parser.parse_args(argv)
    if args.mix == "realistic":
        from bench.mix import main as realistic

        return realistic(args.limit, args.paced, args.partitions, profile=not args.no_profile)
    if args.mix == "feed-stream":
        from bench.mix import feed_stream_main

        return feed_stream_main(args.limit, args.partitions)

    base = Settings(config_dir=CONFIG, poller_metrics_port=0, worker_metrics_port=0)
    corpus = load_articles(args.articles + args.paced, args.sources)
    articles, paced = with_developments(corpus[: args.articles]), with_developments(corpus[args.articles :], phase=1)
    print(
        f"newsmon pipeline benchmark: {len(articles)} articles from {', '.join(args.sources)}; "
        f"{os.cpu_count()} cores; batch {base.nlp_batch_size}, {base.nlp_processes} NLP process(es) per worker",
        flush=True,
    )
    raw_rate, raw_cpu = raw_spacy(articles, base)
    print(
        f"raw spaCy nlp.pipe (same texts, same components, 1 process): {raw_rate:.2f} articles/s, "
        f"{raw_cpu * 1000:.0f} ms CPU/article",
        flush=True,
    )
    parallel = {n: raw_spacy_parallel(articles, base, n) for n in args.workers if n > 1}
    for n, rate in parallel.items():
        print(
            f"raw spaCy nlp.pipe in {n} processes at once: {rate:.2f} articles/s = {rate / raw_rate:.2f} x 1 process "
            f"(what {os.cpu_count()} cores give spaCy alone)",
            flush=True,
        )
    results = []
    for workers in args.workers:
        result = run_pipeline(articles, paced, workers, args.partitions, base)
        results.append(result)
        print(
            f"\n{workers} worker(s), {args.partitions} partitions: {result.per_second:.2f} articles/s "
            f"= {result.per_second / raw_rate:.2f} x raw spaCy; {result.decisions} decisions"
        )
        print(
            f"  CPU per article (all worker processes): {result.cpu_per_article * 1000:.0f} ms "
            f"(raw spaCy {raw_cpu * 1000:.0f} ms)"
        )
        print(f"  latency produce->tagged p50/p95/p99, bulk:   {_p(result.tagged_latency)}")
        print(f"  latency produce->alert  p50/p95/p99, bulk:   {_p(result.alert_latency)}")
        print(f"  latency produce->tagged p50/p95/p99, paced:  {_p(result.paced_tagged)}")
        print(f"  latency produce->alert  p50/p95/p99, paced:  {_p(result.paced_alert)}")
        print("  peak RSS: " + ", ".join(f"{role} {mib(rss)}" for role, rss in result.peak_rss.items()), flush=True)
    if len(results) > 1:
        base_rate = results[0].per_second
        for result in results[1:]:
            line = f"\nscale-out: {result.workers} workers = {result.per_second / base_rate:.2f} x {results[0].workers} worker(s)"
            if result.workers in parallel:
                ceiling = parallel[result.workers] / raw_rate
                line += f"; raw spaCy in {result.workers} processes = {ceiling:.2f} x 1, so the pipeline keeps {result.per_second / base_rate / ceiling:.2f} of it"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
