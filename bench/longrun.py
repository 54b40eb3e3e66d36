"""A long run of ``newsmon run`` with the embedded broker's rotation on: memory and pauses.

    .venv/bin/python -m bench.longrun                          # 100,000 articles, 384 MiB budget
    .venv/bin/python -m bench.longrun --articles 5000 --budget-mib 64   # a quick look

Articles (real corpus background cut short, with the invented developments of
``bench.developments`` among them, as in ``bench.soak``) are published by busy loopback feeds
(``tests/support/streamfeeds.py``) that ``newsmon run`` polls every second; alerts go to a
signed webhook on a loopback receiver. Every second the RSS of the broker (every Tansu
process under the daemon) and of the worker (its main process and spaCy's) and the number
of articles decided (rows in the console's read model) are sampled; the broker figure is
the largest Tansu process, and the peak of all of them together is reported too (during a
swap the old broker and the new, idle one both run for a few seconds). Reported: RSS over
time, each rotation (from the daemon's log) with articles/s in the 30 s before it, while it
runs and in the 30 s after, and the pause (from its start until decisions flow again); at
the end, whether every article was decided and every alert delivered once.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

from bench.soak import SECRET, build_articles
from monitor.runtime.metrics import process_rss_bytes
from tests.support.daemon import Daemon, busy_feed_env
from tests.support.paths import CONFIG, PROJECT
from tests.support.receivers import WebhookReceiver
from tests.support.streamfeeds import StreamFeeds
from tests.support.worker import _processes

WINDOW_S = 30.0
_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


@dataclass
class Sample:
    at: float  # seconds since the daemon was ready
    broker: int  # the largest Tansu process
    brokers: int  # every Tansu process: during a swap the old and the new one
    worker: int
    decided: int


@dataclass
class Sampler:
    daemon: Daemon
    read_model: Path
    began: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _rss(self) -> tuple[int, int, int]:
        table = _processes()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _state) in table.items():
            children.setdefault(ppid, []).append(pid)
        broker = brokers = worker = 0
        for pid in self.daemon.tree():
            try:
                name = Path(f"/proc/{pid}/comm").read_text().strip()
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if name == "tansu":
                rss = process_rss_bytes(pid) or 0
                broker, brokers = max(broker, rss), brokers + rss
            elif b"monitor" in argv and b"worker" in argv:
                stack = [pid]
                while stack:  # the worker and its spaCy processes
                    current = stack.pop()
                    worker += process_rss_bytes(current) or 0
                    stack += children.get(current, [])
        return broker, brokers, worker

    def _decided(self) -> int:
        if not self.read_model.exists():
            return 0
        try:
            with sqlite3.connect(self.read_model, timeout=5) as db:
                return int(db.execute("SELECT count(*) FROM decisions").fetchone()[0])
        except sqlite3.Error:
            return self.samples[-1].decided if self.samples else 0

    def run(self) -> None:
        while not self._stop.wait(1.0):
            broker, brokers, worker = self._rss()
            self.samples.append(Sample(time.monotonic() - self.began, broker, brokers, worker, self._decided()))

    def start(self) -> Sampler:
        self.began = time.monotonic()
        threading.Thread(target=self.run, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()


def rate(samples: list[Sample], start: float, end: float) -> float:
    inside = [s for s in samples if start <= s.at <= end]
    if len(inside) < 2 or inside[-1].at == inside[0].at:
        return 0.0
    return (inside[-1].decided - inside[0].decided) / (inside[-1].at - inside[0].at)


def rotations(log: Path, wall_began: float) -> list[dict]:
    """Each rotation's start and end (seconds since the daemon was ready) from the daemon's log."""
    found: list[dict] = []
    for line in log.read_text(errors="replace").splitlines():
        stamp = _STAMP.match(line)
        if not stamp or "newsmon.rotation" not in line:
            continue
        at = datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp() - wall_began
        if ": rotating" in line:
            found.append({"start_s": round(at, 1)})
        elif "rotated (#" in line and found:
            found[-1].update(end_s=round(at, 1), line=line.split("newsmon.rotation: ", 1)[-1])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--budget-mib", type=int, default=384, help="MONITOR_EMBEDDED_BROKER_BUDGET_BYTES, in MiB")
    parser.add_argument("--feeds", type=int, default=8)
    parser.add_argument("--step", type=int, default=10, help="new items per feed per poll (a poll a second)")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between two printed samples")
    args = parser.parse_args(argv)

    articles, development_of = build_articles(args.articles)
    out = PROJECT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    print(
        f"long run: {len(articles)} articles ({len(development_of)} development reports) from {args.feeds} feeds, "
        f"up to {args.feeds * args.step} articles/s offered, broker budget {args.budget_mib} MiB",
        flush=True,
    )
    with (
        tempfile.TemporaryDirectory(prefix="longrun-") as tmp,
        StreamFeeds(articles, feeds=args.feeds, step=args.step, window=8 * args.step) as feeds,
        WebhookReceiver(SECRET) as hook,
    ):
        config = Path(tmp) / "config"
        shutil.copytree(CONFIG, config)
        feeds.write_feeds_yaml(config)
        sink = {"type": "webhook", "name": "hook", "url": f"{hook.url}/hook", "secret": SECRET, "allow_networks": ["127.0.0.0/8"]}
        (config / "sinks.yaml").write_text(yaml.safe_dump({"sinks": [sink]}))
        data = Path(tmp) / "data"
        env = busy_feed_env(
            config,
            data,
            MONITOR_EMBEDDED_BROKER_BUDGET_BYTES=str(args.budget_mib * 2**20),
            MONITOR_STATUS_INTERVAL_S="60",
        )
        expected = feeds.ids()
        daemon = Daemon(env)
        try:
            daemon.wait_for(r"newsmon ready in [\d.]+ s", 180)
            wall_began, sampler = time.time(), Sampler(daemon, data / "console.sqlite3").start()
            printed = 0.0
            print(f"{'t (s)':>7} {'broker MiB':>10} {'worker MiB':>10} {'decided':>8} {'articles/s':>10}", flush=True)
            while True:
                time.sleep(1.0)
                samples = sampler.samples
                if samples and samples[-1].at - printed >= args.every:
                    last = samples[-1]
                    printed = last.at
                    speed = rate(samples, last.at - args.every, last.at)
                    print(
                        f"{last.at:7.0f} {last.broker / 2**20:10.0f} {last.worker / 2**20:10.0f} {last.decided:8d} {speed:10.1f}",
                        flush=True,
                    )
                if feeds.finished() and samples and samples[-1].decided >= len(expected):
                    break
                if daemon.process.poll() is not None:
                    raise SystemExit(f"newsmon run exited:\n{daemon.output()[-3000:]}")
            time.sleep(10)  # the last alerts' deliveries
            sampler.stop()
            with sqlite3.connect(data / "console.sqlite3") as db:
                decided = {row[0] for row in db.execute("SELECT id FROM decisions")}
                alerts = {row[0] for row in db.execute("SELECT id FROM alerts")}
            found = rotations(data / "logs" / "newsmon.log", wall_began)
        finally:
            daemon.stop()
        samples = sampler.samples
        for rotation in found:
            start, end = rotation["start_s"], rotation.get("end_s", rotation["start_s"])
            resumed = next((s.at for s in samples if s.at > end and rate(samples, s.at - 2, s.at) > 0), None)
            rotation.update(
                before_per_s=round(rate(samples, start - WINDOW_S, start), 1),
                during_per_s=round(rate(samples, start, end), 1),
                after_per_s=round(rate(samples, end, end + WINDOW_S), 1),
                pause_s=round(resumed - start, 1) if resumed is not None else None,
            )
        ids = [r.headers["webhook-id"] for r in hook.delivered()]
        seconds = samples[-1].at if samples else 0.0
        report = {
            "articles": len(expected),
            "seconds": round(seconds, 1),
            "articles_per_s": round(len(decided & expected) / seconds, 1) if seconds else 0.0,
            "budget_mib": args.budget_mib,
            "broker_peak_mib": round(max(s.broker for s in samples) / 2**20, 1),
            "brokers_peak_mib": round(max(s.brokers for s in samples) / 2**20, 1),
            "worker_peak_mib": round(max(s.worker for s in samples) / 2**20, 1),
            "rotations": found,
            "not_decided": len(expected - decided),
            "alerts": len(alerts),
            "alerts_not_delivered": len(alerts - set(ids)),
            "webhook_duplicate_requests": len(ids) - len(set(ids)),
            "samples": [[round(s.at, 1), s.broker, s.brokers, s.worker, s.decided] for s in samples],
        }
    (out / "longrun.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "samples"}, indent=2))
    ok = report["not_decided"] == 0 and report["alerts_not_delivered"] == 0
    print(f"long run {'PASSED' if ok else 'FAILED'}; samples in {out / 'longrun.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
