"""Memory over a long run: does the worker stay flat, and how fast does the embedded broker grow?

    .venv/bin/python -m bench.memory                 # 30 minutes at 6 articles/s
    .venv/bin/python -m bench.memory --minutes 5     # a quick look

One worker on the embedded broker; real corpus articles (new ids each time round) arrive
at a steady rate below capacity, as from a poller. Every 30 s the RSS of the worker (its
main process plus the spaCy process) and of the broker are sampled. Reported: the worker's
RSS at the end of warm-up and at the end, its growth (target < 10 %), its trend over the
second half, and the broker's growth per article processed — Tansu keeps every message in
memory, so that figure sizes how long an embedded deployment can run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

from kafka import KafkaProducer

from bench.pipeline import SOURCES
from bench.resources import ResourceSampler, mib
from monitor.offline.readers import read_articles
from monitor.runtime.broker import EmbeddedBroker
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics
from monitor.settings import Settings
from tests.support.kafka import read_topic
from tests.support.paths import CONFIG, PROJECT
from tests.support.worker import WorkerProcess


def slope_per_minute(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time, bytes per minute."""
    if len(samples) < 2:
        return 0.0
    xs = [t / 60 for t, _ in samples]
    ys = [float(v) for _, v in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=6.0, help="articles per second")
    parser.add_argument("--warmup", type=float, default=5.0, help="minutes excluded from the growth figure")
    args = parser.parse_args(argv)

    corpus = [a for name in ("nyt", "guardian", "cnn") for a in read_articles([SOURCES[name]])]
    print(f"memory run: {args.minutes:g} min at {args.rate:g} articles/s, warm-up {args.warmup:g} min", flush=True)
    with tempfile.TemporaryDirectory(prefix="memory-") as tmp, EmbeddedBroker(log_path=Path(tmp) / "broker.log") as broker:
        settings = Settings(
            broker_url=broker.url,
            embedded_broker=True,
            config_dir=CONFIG,
            data_dir=Path(tmp) / "data",
            poller_metrics_port=0,
            worker_metrics_port=0,
        )
        ensure_topics(settings)
        names = KafkaTopicNames.for_settings(settings)
        out = PROJECT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        worker = WorkerProcess(settings.as_env(), out / "memory-worker.log").start()
        sampler = ResourceSampler(interval=30)
        sampler.watch("worker", worker.process.pid)
        sampler.watch("broker", broker.process.pid)
        producer = KafkaProducer(bootstrap_servers=broker.url, linger_ms=20, max_request_size=16 * 2**20)
        sampler.start()
        began = time.monotonic()
        sent = 0
        source = itertools.cycle(corpus)
        while time.monotonic() - began < args.minutes * 60:
            due = began + sent / args.rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            article = next(source)
            producer.send(
                names.articles, key=f"m{sent:06d}".encode(), value=article.derive(id=f"mem-{sent:06d}").dumps(serializer="json")
            )
            sent += 1
            if sent % 500 == 0:
                print(f"  [{(time.monotonic() - began) / 60:5.1f} min] {sent} articles sent", flush=True)
        producer.flush()
        stats = sampler.stop()  # samples cover the steady load only, not the final drain
        decided = read_topic(broker.url, names.decisions, until=lambda r: len(r) >= sent, timeout_s=1800)
        producer.close()
        worker.stop()

    def window_median(samples: list[tuple[float, int]], start_min: float, end_min: float) -> int:
        # spaCy's RSS breathes with batch sizes: compare medians of windows, not single samples.
        inside = sorted(v for t, v in samples if start_min <= t / 60 < end_min) or [samples[-1][1]]
        return inside[len(inside) // 2]

    worker_samples = [(t - stats["worker"].samples[0][0], v) for t, v in stats["worker"].samples]
    after = [s for s in worker_samples if s[0] / 60 >= args.warmup]
    second_half = [s for s in worker_samples if s[0] / 60 >= args.minutes / 2]
    span = max(1.0, min(5.0, (args.minutes - args.warmup) / 3))
    warm = window_median(worker_samples, args.warmup, args.warmup + span)
    end = window_median(worker_samples, args.minutes - span, args.minutes + 1)
    broker_start, broker_end = stats["broker"].samples[0][1], stats["broker"].samples[-1][1]
    report = {
        "minutes": args.minutes,
        "articles": sent,
        "decided": len(decided),
        "worker_rss_after_warmup_mib": round(warm / 2**20, 1),  # median of the first window after warm-up
        "worker_rss_end_mib": round(end / 2**20, 1),  # median of the last window
        "worker_rss_peak_mib": round(stats["worker"].peak_rss / 2**20, 1),
        "worker_growth_after_warmup_pct": round(100 * (end - warm) / warm, 2),
        "worker_max_after_warmup_pct": round(100 * (max(v for _, v in after) - warm) / warm, 2) if after else None,
        "worker_trend_second_half_mib_per_hour": round(slope_per_minute(second_half) * 60 / 2**20, 1),
        "broker_rss_start_mib": round(broker_start / 2**20, 1),
        "broker_rss_end_mib": round(broker_end / 2**20, 1),
        "broker_bytes_per_article": round((broker_end - broker_start) / max(1, sent)),
    }
    print(json.dumps(report, indent=2))
    print(
        f"worker: {mib(warm)} after warm-up -> {mib(end)} at the end ({report['worker_growth_after_warmup_pct']:+.1f} %, "
        f"target < 10 %); broker grows {report['broker_bytes_per_article'] / 1024:.1f} KiB per article"
    )
    (PROJECT / "bench" / "out" / "memory.json").write_text(json.dumps(report, indent=2))
    return 0 if report["worker_growth_after_warmup_pct"] < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
