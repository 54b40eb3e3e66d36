"""Tables on disk across brokers (agents/state.py): offsets stored for one broker are never
read against another's changelog, and those stored for the current one are Faust's own."""

from __future__ import annotations

import json
import time

import pytest

from agents.state import decode_offset, encode_offset
from monitor.runtime.broker import EmbeddedBroker
from monitor.runtime.kafka_topics import ensure_topics
from tests.support.alerts import make_alerts, send_alerts
from tests.support.kafka import read_topic
from tests.support.receivers import WebhookReceiver
from tests.support.waiting import SECRET, wait_for

pytestmark = pytest.mark.timeout(280)


def test_a_stored_offset_counts_only_for_the_broker_it_was_read_from():
    assert decode_offset(encode_offset(41, "b1"), "b1") == 41
    assert decode_offset(encode_offset(41, "b1"), "b2") is None  # a fresh embedded broker
    assert decode_offset(encode_offset(41, "b1"), "") is None  # moved to Apache Kafka
    assert decode_offset(encode_offset(41, ""), "") == 41  # Apache Kafka all along: Faust's format
    assert encode_offset(41, "") == b"41"
    assert decode_offset(None, "b1") is None


def test_the_ledger_survives_a_fresh_broker_and_then_a_restart_on_it(broker_settings, start_worker, tmp_path):
    """Broker 1: 12 alerts delivered. Broker 2 (empty changelogs, offsets from 0): the 12 again
    are not delivered, 3 new ones are. The worker restarts on broker 2 (its stored offsets are
    now broker 2's): all 15 again, nothing is delivered a second time, 2 more new ones are."""
    old, new, newer = make_alerts(12), make_alerts(3, prefix="new"), make_alerts(2, prefix="newer")
    with WebhookReceiver(SECRET) as hook, EmbeddedBroker(log_path=tmp_path / "broker-2.log") as second:
        (broker_settings.config_dir / "sinks.yaml").write_text(
            f"sinks:\n  - type: webhook\n    name: hook\n    url: {hook.url}/hook\n    secret: {SECRET}\n"
            "    allow_networks: [127.0.0.0/8]\n"
        )
        first_run = broker_settings.with_overrides(broker_incarnation="broker-1")
        ensure_topics(first_run)
        worker = start_worker(first_run)
        send_alerts(first_run, old)
        wait_for(lambda: len(hook.unique_ids()) == 12, 60, "the first dozen delivered")
        worker.stop()

        second_run = broker_settings.with_overrides(broker_url=second.url, broker_incarnation="broker-2")
        ensure_topics(second_run)
        began = time.monotonic()
        worker = start_worker(second_run)
        ready_s = time.monotonic() - began
        send_alerts(second_run, old + new)
        wait_for(lambda: len(hook.unique_ids()) == 15, 60, "the three new alerts delivered")
        worker.stop()
        # The entries kept from disk were written to the new broker's changelog too.
        changelog = read_topic(second.url, f"{broker_settings.app_id}-deliveries-changelog", timeout_s=5)
        assert {json.loads(r.key).split("|")[0] for r in changelog} == {a.id for a in old + new}

        worker = start_worker(second_run)
        send_alerts(second_run, old + new + newer)
        wait_for(lambda: len(hook.unique_ids()) == 17, 60, "the two newer alerts delivered")
        time.sleep(3)  # a re-delivery would come right behind
        assert "ConsistencyError" not in worker.output()
    ids = [r.headers["webhook-id"] for r in hook.delivered()]
    print(f"worker ready on a fresh broker in {ready_s:.1f} s; {len(ids)} deliveries for 17 alerts")
    assert sorted(ids) == sorted(a.id for a in old + new + newer), "each alert delivered exactly once"
