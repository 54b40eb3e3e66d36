"""Tables on disk: their size, and how long a worker takes to start with them (``make bench-state``).

Delivers N alerts to a loopback webhook (N ledger entries), then starts the worker three
times with that state: on the same broker (Faust reads only the changelog tail), on a fresh
broker (a new incarnation: the stored offsets are ignored, the tables kept), and, for
comparison, with the memory store on the first broker (the whole changelog replayed).
Prints the size of ``data/faust`` and each start-up time (process start → ready line).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from kafka import KafkaProducer

from monitor.runtime.broker import EmbeddedBroker
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics
from monitor.settings import Settings
from tests.support.alerts import make_alerts
from tests.support.paths import CONFIG
from tests.support.receivers import WebhookReceiver
from tests.support.waiting import SECRET, wait_for
from tests.support.worker import WorkerProcess


def _du(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout.split()[0])


def _timed_start(settings: Settings, log: Path) -> tuple[WorkerProcess, float]:
    began = time.monotonic()
    worker = WorkerProcess(settings.as_env(), log).start(timeout_s=300)
    return worker, time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--alerts", type=int, default=5000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="newsmon-bench-state-"))
    config = root / "config"
    subprocess.run(["cp", "-r", str(CONFIG), str(config)], check=True)
    with WebhookReceiver(SECRET) as hook, EmbeddedBroker() as first, EmbeddedBroker() as second:
        (config / "sinks.yaml").write_text(
            f"sinks:\n  - type: webhook\n    name: hook\n    url: {hook.url}/hook\n    secret: {SECRET}\n"
            "    allow_networks: [127.0.0.0/8]\n"
        )
        settings = Settings(
            config_dir=config,
            data_dir=root / "data",
            broker_url=first.url,
            embedded_broker=True,
            broker_incarnation="first",
            poller_metrics_port=0,
            worker_metrics_port=0,
        )
        ensure_topics(settings)
        worker, _ = _timed_start(settings, root / "worker-0.log")
        producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=20)
        for alert in make_alerts(args.alerts):
            producer.send(
                KafkaTopicNames.for_settings(settings).alerts, key=alert.story_id.encode(), value=alert.dumps(serializer="json")
            )
        producer.flush()
        began = time.monotonic()
        wait_for(lambda: len(hook.unique_ids()) >= args.alerts, 1800, "every alert delivered")
        rate = args.alerts / (time.monotonic() - began)
        worker.stop()
        size = _du(root / "data" / "faust")
        runs = {}
        worker, runs["same broker, RocksDB"] = _timed_start(settings, root / "worker-1.log")
        worker.stop()
        fresh = settings.with_overrides(broker_url=second.url, broker_incarnation="second")
        ensure_topics(fresh)
        worker, runs["fresh broker, RocksDB"] = _timed_start(fresh, root / "worker-2.log")
        worker.stop()
        memory = settings.with_overrides(table_store="memory")
        worker, runs["same broker, memory store"] = _timed_start(memory, root / "worker-3.log")
        worker.stop()
    print(
        f"{args.alerts} alerts delivered at {rate:.0f}/s; data/faust holds {size / 2**20:.1f} MiB ({size / args.alerts:.0f} B per ledger entry)"
    )
    for name, seconds in runs.items():
        print(f"  worker start-up, {name}: {seconds:.1f} s")


if __name__ == "__main__":
    main()
