"""Crash soak: SIGKILL random workers while 20,000 articles flow, then compare with a clean run.

    .venv/bin/python -m bench.soak                  # 20,000 articles, 10 minutes of kills, 2 workers
    .venv/bin/python -m bench.soak --articles 3000 --minutes 2   # a quick look

Articles are sequence-numbered: real corpus articles (cut to their first paragraphs, and
only ones that name no watched pair, so they are background) plus the thirty invented
developments of ``bench.developments``, each reported by three outlets, spread through
the sequence. They are produced to the articles topic over ``--minutes`` while a killer
sends SIGKILL to a random worker every 1–30 s and restarts it. Alerts go to a signed
webhook on a loopback receiver that verifies every request.

Afterwards, against a clean single-worker run of the same articles:
* every article has a decision (0 gaps); duplicates processed (at-least-once) are counted;
* the stories are the same (as groups of article ids: story ids name a story after the
  article that opened it, which may differ when partitions are consumed in another order);
* the same stories alerted, each once; every alert reached the webhook; the receiver
  saw no webhook-id twice after its own dedup (duplicate requests are counted).
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from kafka import KafkaProducer

from bench.developments import development_articles
from bench.pipeline import SOURCES
from monitor.models import Alert, Article, Decision
from monitor.offline.readers import read_articles
from monitor.runtime.broker import EmbeddedBroker
from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics
from monitor.settings import Settings
from monitor.watchlist import load_watchlist
from tests.support.kafka import read_topic
from tests.support.paths import CONFIG, PROJECT
from tests.support.receivers import WebhookReceiver
from tests.support.worker import WorkerProcess

SECRET = "whsec_c29hay1iZW5jaC1zaWduaW5nLWtleS0xMjM0NTY="
BACKGROUND_CHARS = 700


def _mentions(text: str, forms: list[str]) -> bool:
    return any(form in text for form in forms)


def build_articles(count: int) -> tuple[list[Article], dict[str, int]]:
    """``count`` sequence-numbered articles and, for development reports, their development."""
    watchlist = load_watchlist(CONFIG / "watchlist.yaml")
    pair_forms = [[p for p, _ in watchlist.actors[actor].surface_forms()] for pair in watchlist.watch_pairs for actor in pair]
    background = []
    for name in ("guardian", "nyt", "cnn"):
        for article in read_articles([SOURCES[name]]):
            text = f"{article.title}\n{article.text}"
            # Background must not open stories: skip anything naming both sides of a watched pair.
            if all(_mentions(text, forms) for forms in pair_forms[:2]):
                continue
            background.append(article.derive(text=article.text[:BACKGROUND_CHARS].rsplit(" ", 1)[0]))
    developments = development_articles()
    every = max(1, count // (len(developments) + 1))
    out: list[Article] = []
    development_of: dict[str, int] = {}
    pending = list(developments)
    cursor = 0
    for seq in range(count):
        if pending and seq % every == every // 2:
            index, article = pending.pop(0)
            article = article.derive(id=f"soak-{seq:05d}-{article.id}")
            development_of[article.id] = index
        else:
            source = background[cursor % len(background)]
            cursor += 1
            article = source.derive(id=f"soak-{seq:05d}")
        out.append(article)
    return out, development_of


@dataclass
class RunOutcome:
    name: str
    decisions: list[Decision]
    alerts: list[Alert]
    webhook_requests: int
    webhook_unique: set[str]
    webhook_rejected: int
    seconds: float
    kills: int = 0
    kill_times: list[float] = field(default_factory=list)

    def decided_ids(self) -> collections.Counter:
        return collections.Counter(d.id for d in self.decisions)

    def story_groups(self) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = collections.defaultdict(set)
        for decision in self.decisions:
            if decision.story:
                groups[decision.story].add(decision.id)
        return {frozenset(g) for g in groups.values()}

    def alerted_groups(self) -> collections.Counter:
        """Alerts (unique ids) per story group."""
        group_of = {}
        for group in self.story_groups():
            for article_id in group:
                group_of[article_id] = group
        story_group = {}
        for decision in self.decisions:
            if decision.story:
                story_group[decision.story] = group_of[decision.id]
        unique = {alert.id: alert for alert in self.alerts}
        return collections.Counter(story_group.get(alert.story_id) for alert in unique.values())


def _write_config(directory: Path, webhook_url: str) -> Path:
    config = directory / "config"
    config.mkdir(parents=True)
    for name in ("watchlist.yaml", "feeds.yaml"):
        (config / name).write_text((CONFIG / name).read_text())
    sinks = [
        {
            "type": "webhook",
            "name": "hook",
            "url": webhook_url,
            "secret": SECRET,
            "allow_networks": ["127.0.0.0/8"],
            "retry_delays_s": [1, 2, 4, 8, 16, 32],
        }
    ]
    (config / "sinks.yaml").write_text(yaml.safe_dump({"sinks": sinks}))
    return config


def run(name: str, articles: list[Article], *, workers: int, partitions: int, minutes: float, kill: bool, log) -> RunOutcome:
    with (
        tempfile.TemporaryDirectory(prefix=f"soak-{name}-") as tmp,
        WebhookReceiver(SECRET) as hook,
        EmbeddedBroker(log_path=Path(tmp) / "broker.log") as broker,
    ):
        config = _write_config(Path(tmp), f"{hook.url}/newsmon")
        settings = Settings(
            broker_url=broker.url,
            embedded_broker=True,
            partitions=partitions,
            config_dir=config,
            data_dir=Path(tmp) / "data",
            poller_metrics_port=0,
            worker_metrics_port=0,
        )
        ensure_topics(settings)
        names = KafkaTopicNames.for_settings(settings)
        env = settings.as_env()
        logs = PROJECT / "bench" / "out" / f"soak-{name}"
        logs.mkdir(parents=True, exist_ok=True)
        count = iter(range(10_000))
        procs = [WorkerProcess(env, logs / f"worker-{next(count)}.log").start() for _ in range(workers)]
        producer = KafkaProducer(bootstrap_servers=broker.url, linger_ms=20, max_request_size=16 * 2**20)
        began = time.monotonic()
        outcome = RunOutcome(name, [], [], 0, set(), 0, 0.0)
        stop_killing = threading.Event()

        def killer() -> None:
            rng = random.Random(7)
            while not stop_killing.wait(rng.uniform(1, 30)):
                slot = rng.randrange(len(procs))
                procs[slot].kill()
                outcome.kills += 1
                outcome.kill_times.append(time.monotonic() - began)
                log(f"  [{time.monotonic() - began:6.0f} s] SIGKILL worker slot {slot} (kill #{outcome.kills}); restarting")
                procs[slot] = WorkerProcess(env, logs / f"worker-{next(count)}.log").start(timeout_s=180)

        thread = threading.Thread(target=killer, daemon=True)
        if kill:
            thread.start()
        interval = minutes * 60 / len(articles) if kill else 0.0
        for index, article in enumerate(articles):
            if interval:
                delay = began + index * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            producer.send(names.articles, key=article.id.encode(), value=article.dumps(serializer="json"))
        producer.flush()
        log(f"  produced {len(articles)} articles in {time.monotonic() - began:.0f} s")
        if kill:
            remaining = began + minutes * 60 - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
            stop_killing.set()
            thread.join()
        wanted = {a.id for a in articles}
        records = read_topic(
            broker.url,
            names.decisions,
            timeout_s=3600,
            until=lambda r: len(r) >= len(wanted) and wanted <= {rec.key.decode() for rec in r},
        )
        outcome.decisions = [Decision.loads(r.value, serializer="json") for r in records]
        alerts = [Alert.loads(r.value, serializer="json") for r in read_topic(broker.url, names.alerts, timeout_s=5)]
        outcome.alerts = alerts
        expected_ids = {a.id for a in alerts}
        deadline = time.monotonic() + 300
        while not expected_ids <= hook.unique_ids() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)  # a late duplicate would show now
        outcome.webhook_requests = len(hook.delivered())
        outcome.webhook_unique = hook.unique_ids()
        outcome.webhook_rejected = len(hook.rejected)
        outcome.seconds = time.monotonic() - began
        producer.close()
        for proc in procs:
            proc.stop()
        return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long articles flow and the killer runs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, flush=True)

    articles, development_of = build_articles(args.articles)
    log(
        f"crash soak: {len(articles)} articles ({len(development_of)} development reports of "
        f"{len(set(development_of.values()))} developments), {args.workers} workers, {args.partitions} partitions"
    )
    log("chaos run (SIGKILL a random worker every 1-30 s):")
    chaos = run("chaos", articles, workers=args.workers, partitions=args.partitions, minutes=args.minutes, kill=True, log=log)
    log(f"  done in {chaos.seconds:.0f} s after {chaos.kills} kills")
    log("clean run (one worker, no kills):")
    clean = run("clean", articles, workers=1, partitions=args.partitions, minutes=0, kill=False, log=log)
    log(f"  done in {clean.seconds:.0f} s")

    ids = {a.id for a in articles}
    report = {}
    for outcome in (chaos, clean):
        decided = outcome.decided_ids()
        unique_alerts = {a.id for a in outcome.alerts}
        report[outcome.name] = {
            "articles": len(ids),
            "gaps": len(ids - set(decided)),
            "decisions": sum(decided.values()),
            "duplicates_processed": sum(decided.values()) - len(decided),
            "stories": len(outcome.story_groups()),
            "alerts_unique": len(unique_alerts),
            "alert_messages": len(outcome.alerts),
            "webhook_requests": outcome.webhook_requests,
            "webhook_unique_ids": len(outcome.webhook_unique),
            "alerts_not_delivered": len(unique_alerts - outcome.webhook_unique),
            "webhook_duplicate_requests": outcome.webhook_requests - len(outcome.webhook_unique),
            "webhook_rejected": outcome.webhook_rejected,
            "kills": outcome.kills,
            "seconds": round(outcome.seconds, 1),
        }
    developments_alerted = {
        name: sum(1 for group, n in outcome.alerted_groups().items() if group and any(i in development_of for i in group) and n)
        for name, outcome in (("chaos", chaos), ("clean", clean))
    }
    same_stories = chaos.story_groups() == clean.story_groups()
    same_alerts = chaos.alerted_groups() == clean.alerted_groups()
    lost = sum((clean.alerted_groups() - chaos.alerted_groups()).values())
    report["comparison"] = {
        "stories_equal": same_stories,
        "alerted_stories_equal": same_alerts,
        "alerts_lost_vs_clean": lost,
        "developments_alerted": developments_alerted,
    }
    log(json.dumps(report, indent=2))
    out = PROJECT / "bench" / "out" / "soak.json"
    out.write_text(json.dumps(report, indent=2))
    ok = (
        report["chaos"]["gaps"] == 0
        and same_stories
        and same_alerts
        and lost == 0
        and report["chaos"]["alerts_not_delivered"] == 0
        and report["chaos"]["webhook_rejected"] == 0
    )
    log(f"soak {'PASSED' if ok else 'FAILED'}; report in {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
