"""Memory and CPU of the worker and the poller, to size their Kubernetes requests.

    .venv/bin/python bench/footprint.py [--articles 300] [--feeds 40]

Runs on the embedded broker, all on loopback:
  * baseline: a bare Python process that only loads the spaCy model (the floor of a worker);
  * worker (``newsmon worker`` and its spaCy process): RSS and CPU idle, then while it
    analyses ``--articles`` real articles from ../shared/corpus (Guardian and NYT CSVs);
  * poller (``newsmon poll``): RSS and CPU while it polls ``--feeds`` loopback feeds of
    articles, then idle.
RSS is summed over each process tree (shared pages counted twice: an upper bound, which
is what a container limit needs). Figures are provisional on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import html
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSMON_SHARED_DIR", PROJECT.parent / "shared"))
CORPUS = [
    SHARED / "corpus" / "subina-maharjan_Guardians_Russia_Ukraine.csv",
    SHARED / "corpus" / "subina-maharjan_NYT_Russia_Ukraine.csv",
]
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def rss_mib(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError):
            pass
    return total / 2**20


def cpu_s(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError):
            pass
    return total / TICK


class Sampler:
    """Peak RSS and CPU seconds of a process tree over a window."""

    def __init__(self, pid: int):
        self.pid = pid
        self.cpu0 = cpu_s(pid)
        self.t0 = time.monotonic()
        self.peak = rss_mib(pid)

    def sample(self) -> None:
        self.peak = max(self.peak, rss_mib(self.pid))

    def result(self) -> dict:
        self.sample()
        seconds = time.monotonic() - self.t0
        cpu = cpu_s(self.pid) - self.cpu0
        return {
            "peak_rss_mib": round(self.peak, 1),
            "rss_now_mib": round(rss_mib(self.pid), 1),
            "cpu_s": round(cpu, 2),
            "wall_s": round(seconds, 1),
            "cores": round(cpu / seconds, 3),
        }


def watch(pid: int, seconds: float, until=None) -> dict:
    sampler = Sampler(pid)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and until()):
        sampler.sample()
        time.sleep(0.25)
    return sampler.result()


def baseline(model: str) -> dict:
    code = f"import spacy, sys, time; spacy.load({model!r}); print('ready', flush=True); time.sleep(60)"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    process.stdout.readline()
    time.sleep(1)
    figures = {"rss_mib": round(rss_mib(process.pid), 1)}
    process.kill()
    process.wait()
    return figures


class RecordCounter:
    """Counts a topic's records by reading them (offsets on the embedded broker are not counts)."""

    def __init__(self, bootstrap: str, topic: str):
        from kafka import KafkaConsumer, TopicPartition

        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        tps = [TopicPartition(topic, p) for p in sorted(self.consumer.partitions_for_topic(topic) or [])]
        self.consumer.assign(tps)
        self.consumer.seek_to_beginning(*tps)
        self.count = 0

    def at_least(self, wanted: int) -> bool:
        for batch in self.consumer.poll(timeout_ms=100).values():
            self.count += len(batch)
        return self.count >= wanted


def rss_feed(articles) -> bytes:
    items = "".join(
        f"<item><title>{html.escape(a.title)}</title><link>https://bench.example.org/{a.id}</link>"
        f'<guid isPermaLink="false">{a.id}</guid><description>{html.escape(a.text[:4000])}</description></item>'
        for a in articles
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>{items}</channel></rss>'.encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--feeds", type=int, default=40)
    args = parser.parse_args()

    from monitor.models import utcnow
    from monitor.offline.readers import read_articles
    from monitor.runtime.broker import EmbeddedBroker
    from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics, make_producer
    from monitor.settings import Settings

    articles = list(read_articles(CORPUS))[: args.articles]
    floor = baseline(Settings().spacy_model)
    print(f"baseline (python + spaCy model only): {floor}", flush=True)

    with EmbeddedBroker() as broker:
        workdir = PROJECT / "bench" / "out" / "footprint"
        shutil.rmtree(workdir, ignore_errors=True)  # fresh poller state: every item is new
        config = workdir / "config"
        config.mkdir(parents=True, exist_ok=True)
        for name in ("watchlist.yaml", "sinks.yaml"):
            (config / name).write_text((PROJECT / "config" / name).read_text())
        settings = Settings(
            broker_url=broker.url,
            embedded_broker=True,
            data_dir=workdir / "data",
            config_dir=config,
            topic_prefix=f"fp{os.getpid()}",
            app_id=f"fp{os.getpid()}",
            poller_metrics_port=0,
            worker_metrics_port=0,
            fetch_allowlist="127.0.0.0/8",
        )

        # Feeds: --feeds loopback feeds sharing the articles, 20 items each.
        per_feed = 20
        slices = {f"/f{i}.xml": articles[(i * per_feed) % len(articles) :][:per_feed] for i in range(args.feeds)}
        bodies = {path: rss_feed(items) for path, items in slices.items()}
        feed_items = sum(len(items) for items in slices.values())

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = bodies.get(self.path, b"")
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        feeds = [
            {
                "name": f"bench-{i}",
                "url": f"http://127.0.0.1:{server.server_port}{path}",
                "source": f"Bench {i}",
                "interval_s": 600,
            }
            for i, path in enumerate(bodies)
        ]
        (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))

        ensure_topics(settings)
        names = KafkaTopicNames.for_settings(settings)
        env = {**os.environ, **settings.as_env()}

        worker = subprocess.Popen(
            [sys.executable, "-m", "monitor", "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        started = time.monotonic()
        for line in worker.stdout:
            if "newsmon worker ready" in line:
                break
        threading.Thread(target=lambda: [None for _ in worker.stdout], daemon=True).start()
        print(f"worker ready in {time.monotonic() - started:.1f} s", flush=True)
        idle = watch(worker.pid, 15)
        print(f"worker idle (15 s): {idle}", flush=True)
        print(f"worker idle RSS / baseline: {idle['rss_now_mib'] / floor['rss_mib']:.2f}x", flush=True)

        producer = make_producer(settings)
        for article in articles:
            producer.send(
                names.articles, key=article.id.encode(), value=article.derive(fetched_at=utcnow()).dumps(serializer="json")
            )
        producer.flush()
        decisions = RecordCounter(broker.url, names.decisions)
        busy = watch(worker.pid, 600, until=lambda: decisions.at_least(len(articles)))
        busy["articles"] = len(articles)
        busy["decisions"] = decisions.count
        busy["articles_per_s"] = round(len(articles) / busy["wall_s"], 1)
        busy["cpu_ms_per_article"] = round(1000 * busy["cpu_s"] / len(articles), 1)
        print(f"worker busy: {busy}", flush=True)
        print(f"worker peak RSS / baseline: {busy['peak_rss_mib'] / floor['rss_mib']:.2f}x", flush=True)
        print(f"worker idle after load (10 s): {watch(worker.pid, 10)}", flush=True)

        poller = subprocess.Popen(
            [sys.executable, "-m", "monitor", "poll"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        produced = RecordCounter(broker.url, names.articles)
        polled = watch(poller.pid, 120, until=lambda: produced.at_least(len(articles) + feed_items))
        polled["feeds"] = args.feeds
        polled["items"] = feed_items
        polled["produced"] = produced.count - len(articles)
        print(f"poller first cycle: {polled}", flush=True)
        print(f"poller idle (15 s): {watch(poller.pid, 15)}", flush=True)

        for process in (poller, worker):
            process.terminate()
            process.wait(30)
        server.shutdown()


if __name__ == "__main__":
    main()
