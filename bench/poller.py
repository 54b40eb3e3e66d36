"""Benchmark the poller: 10,000 feeds on loopback, 90 % unchanged (304), 10 % with new items.

    .venv/bin/python -m bench.poller [--feeds 10000] [--every 10] [--rounds 2]

The feed server runs in a separate process (see bench/feedserver.py) so the figures are
the poller process's own: feeds per second (wall), CPU seconds per 1,000 feeds (process
time of this process, all its threads: the event loop, the Kafka producer, executors),
peak RSS (VmHWM, reset before each round), and, in the same run, the raw cost of
``feedparser.parse`` on exactly the bytes the changed feeds served (in a child process,
its own CPU clock). New items go to the real embedded broker (Tansu).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import multiprocessing
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import feedparser
from prometheus_client import CollectorRegistry

from bench.feedserver import FeedBodies, serve
from monitor.ingest.feedlist import FeedConfig
from monitor.ingest.poll import Poller
from monitor.ingest.pollstate import FeedStateStore
from monitor.runtime.broker import EmbeddedBroker
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics, make_producer
from monitor.runtime.metrics import Metrics
from monitor.runtime.poller import KafkaPublisher
from monitor.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
NEWS = Path(os.environ.get("NEWSMON_SHARED_DIR", ROOT.parent / "shared")) / "feeds" / "news"


def rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")


async def poll_round(poller: Poller) -> tuple[dict, list]:
    reset_peak_rss()
    wall, cpu = time.perf_counter(), time.process_time()
    reports = await poller.run_once()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    outcomes: dict[str, int] = {}
    for report in reports:
        outcomes[report.outcome] = outcomes.get(report.outcome, 0) + 1
    figures = {
        "feeds": len(reports),
        "wall_s": round(wall, 2),
        "feeds_per_s": round(len(reports) / wall, 1),
        "cpu_s": round(cpu, 2),
        "cpu_s_per_1000_feeds": round(1000 * cpu / len(reports), 3),
        "peak_rss_mb": round(rss_kb("VmHWM") / 1024, 1),
        "outcomes": outcomes,
        "new_items": sum(r.new for r in reports),
    }
    return figures, reports


def feedparser_baseline(every: int, indexes: list[int], round_: int) -> dict:
    """``feedparser.parse`` alone on the bytes the changed feeds served this round.

    Runs in a child process (its own CPU clock), so the bodies it holds do not weigh on
    the poller process's RSS.
    """
    bodies = FeedBodies(NEWS, every)
    payloads = [bodies.body(i, round_) for i in indexes]
    cpu = time.process_time()
    for payload in payloads:
        feedparser.parse(io.BytesIO(payload))
    cpu = time.process_time() - cpu
    return {"feeds": len(payloads), "cpu_s": round(cpu, 2), "bytes": sum(map(len, payloads))}


async def run(args) -> dict:
    bodies = FeedBodies(NEWS, args.every)
    round_value = multiprocessing.Value("i", 0)
    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports, round_value, str(NEWS), args.every, args.hosts), daemon=True)
    server.start()
    port = ports.get(timeout=30)
    data = Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    try:
        with EmbeddedBroker(log_path=data / "tansu.log") as broker:
            settings = Settings(
                data_dir=data,
                broker_url=broker.url,
                embedded_broker=True,
                topic_prefix="bench",
                app_id="bench",
                fetch_allowlist="127.0.0.0/8",
                poll_concurrency=args.concurrency,
                poller_metrics_port=0,
            )
            ensure_topics(settings)
            feeds = [
                FeedConfig(name=f"f{i:05d}", url=f"http://127.0.0.{1 + i % args.hosts}:{port}/feed/{i}")
                for i in range(args.feeds)
            ]
            producer = make_producer(settings)
            store = FeedStateStore(data / "state.sqlite3", keep_per_feed=settings.seen_ids_per_feed)
            poller = Poller(
                settings,
                feeds,
                KafkaPublisher(producer, KafkaTopicNames.for_settings(settings).articles),
                store,
                Metrics(CollectorRegistry()),
            )
            changed = [i for i in range(args.feeds) if bodies.changes(i)]
            results: dict = {
                "machine_cores": os.cpu_count(),
                "feeds": args.feeds,
                "changed_per_round": len(changed),
                "hosts": args.hosts,
                "concurrency": args.concurrency,
            }
            async with poller:
                warm, _ = await poll_round(poller)  # first poll of everything: validators and seen ids
                results["warm_up"] = warm
                rounds = []
                for round_ in range(1, args.rounds + 1):
                    round_value.value = round_
                    figures, _ = await poll_round(poller)
                    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                        base = pool.submit(feedparser_baseline, args.every, changed, round_).result()
                    figures["feedparser_baseline"] = base
                    figures["poller_cpu_over_feedparser_cpu"] = round(figures["cpu_s"] / base["cpu_s"], 2)
                    rounds.append(figures)
                results["rounds"] = rounds
            producer.close()
            store.close()
            return results
    finally:
        server.kill()
        server.join(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=10, help="every n-th feed changes each round (10: 10 %%)")
    parser.add_argument("--hosts", type=int, default=100, help="loopback addresses the feeds are spread over")
    parser.add_argument("--concurrency", type=int, default=64, help="MONITOR_POLL_CONCURRENCY")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    results = asyncio.run(run(args))
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "poller.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    for number, figures in enumerate(results["rounds"], 1):
        base = figures["feedparser_baseline"]
        print(
            f"round {number}: {figures['feeds']} feeds in {figures['wall_s']} s = {figures['feeds_per_s']} feeds/s; "
            f"{figures['cpu_s_per_1000_feeds']} CPU s per 1,000 feeds; peak RSS {figures['peak_rss_mb']} MB; "
            f"feedparser alone on the {base['feeds']} changed bodies: {base['cpu_s']} CPU s "
            f"(poller/feedparser = {figures['poller_cpu_over_feedparser_cpu']}); cores: {results['machine_cores']}"
        )


if __name__ == "__main__":
    main()
