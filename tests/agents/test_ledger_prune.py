"""Ledger pruning through a real worker on the real broker and its RocksDB tables: every
entry past the retention is deleted, each in the changelog partition that holds it, so
recovery and compaction drop it too (the digest's entries live in the digest's partition,
not their alert's)."""

from __future__ import annotations

import json
import time
from collections import defaultdict

import pytest
import yaml

from monitor.runtime.kafka_topics import ensure_topics
from tests.support.alerts import make_alerts, send_alerts
from tests.support.kafka import read_topic
from tests.support.receivers import WebhookReceiver
from tests.support.waiting import SECRET, wait_for

pytestmark = pytest.mark.timeout(240)


def test_entries_past_the_retention_are_deleted_from_the_partition_that_holds_them(broker_settings, start_worker):
    settings = broker_settings.with_overrides(ledger_retention_s=3.0, story_window_s=3.0, ledger_prune_interval_s=1.0)
    alerts = make_alerts(8, prefix="prune")
    with WebhookReceiver(SECRET) as hook:
        loopback = ["127.0.0.0/8"]
        sinks = [
            {"type": "webhook", "name": "hook", "url": f"{hook.url}/hook", "secret": SECRET, "allow_networks": loopback},
            {
                "type": "webhook",
                "name": "digest",
                "url": f"{hook.url}/digest",
                "secret": SECRET,
                "allow_networks": loopback,
                "digest_minutes": 0.05,
            },
        ]
        (settings.config_dir / "sinks.yaml").write_text(yaml.safe_dump({"sinks": sinks}))
        ensure_topics(settings)
        worker = start_worker(settings)
        send_alerts(settings, alerts)

        def digested() -> int:
            return sum(len(r.json()["data"]["alerts"]) for r in hook.delivered() if r.path == "/digest")

        wait_for(lambda: len({r.headers["webhook-id"] for r in hook.delivered() if r.path == "/hook"}) == 8, 60, "8 alerts")
        wait_for(lambda: digested() == 8, 60, "the 8 alerts in digests")
        keys = {f"{a.id}|{sink}" for a in alerts for sink in ("hook", "digest")}

        def tombstoned(records) -> set[str]:
            return {json.loads(r.key) for r in records if r.value is None}

        changelog = read_topic(
            settings.bootstrap_servers[0],
            f"{settings.app_id}-deliveries-changelog",
            until=lambda records: keys <= tombstoned(records),
            timeout_s=60,
        )
        assert "entries older than 3 s deleted" in worker.output()
        sent = sorted(r.headers["webhook-id"] for r in hook.delivered() if r.path == "/hook")
        in_digests = digested()

    puts, deletions = defaultdict(set), defaultdict(set)
    for record in changelog:
        (deletions if record.value is None else puts)[json.loads(record.key)].add(record.partition)
    assert set(puts) == keys
    for key in keys:
        assert deletions[key] == puts[key], f"{key}: written to {puts[key]}, deleted from {deletions[key]}"
    # The digest's entries sit in the digest's partition, whatever partition their alert had.
    assert len(set().union(*(puts[f"{a.id}|digest"] for a in alerts))) == 1
    assert len(set().union(*(puts[f"{a.id}|hook"] for a in alerts))) > 1
    assert sent == sorted(a.id for a in alerts) and in_digests == 8, "pruning sends nothing again"


def test_a_restarted_worker_prunes_at_once_not_an_interval_later(broker_settings, start_worker):
    """Faust's timers sleep a whole interval before their first run, and the worker restarts at
    every rotation of the embedded broker: with an hourly interval, a worker restarted more
    often than hourly would never prune. The entries a stopped worker left, past their
    retention, are deleted by the next worker within seconds of its start."""
    settings = broker_settings.with_overrides(ledger_retention_s=3.0, story_window_s=3.0, ledger_prune_interval_s=3600.0)
    alerts = make_alerts(4, prefix="restart-prune")
    with WebhookReceiver(SECRET) as hook:
        sink = {"type": "webhook", "name": "hook", "url": f"{hook.url}/hook", "secret": SECRET, "allow_networks": ["127.0.0.0/8"]}
        (settings.config_dir / "sinks.yaml").write_text(yaml.safe_dump({"sinks": [sink]}))
        ensure_topics(settings)
        first = start_worker(settings)
        send_alerts(settings, alerts)
        wait_for(lambda: len({r.headers["webhook-id"] for r in hook.delivered()}) == 4, 60, "4 alerts")
        first.stop()
        # The first worker pruned once, at its start, before any entry existed.
        assert "entries older than" not in first.output()
        keys = {f"{a.id}|hook" for a in alerts}
        time.sleep(settings.ledger_retention_s)  # every entry expired before the next worker's one round
        second = start_worker(settings)
        changelog = read_topic(
            settings.bootstrap_servers[0],
            f"{settings.app_id}-deliveries-changelog",
            until=lambda records: keys <= {json.loads(r.key) for r in records if r.value is None},
            timeout_s=60,
        )
        assert "ledger partition" in second.output() and "entries older than 3 s deleted" in second.output()
        assert keys <= {json.loads(r.key) for r in changelog if r.value is None}
        assert sorted(r.headers["webhook-id"] for r in hook.delivered()) == sorted(a.id for a in alerts), "nothing sent again"
