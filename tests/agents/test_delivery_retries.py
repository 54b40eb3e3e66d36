"""Retries, dead letters, digests and ``newsmon dlq`` through a real worker on the real broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from kafka import KafkaProducer

from monitor.runtime.kafka_topics import KafkaTopicNames, ensure_topics
from tests.support.alerts import make_alerts, write_sinks_yaml
from tests.support.kafka import read_topic
from tests.support.receivers import SlackReceiver, WebhookReceiver
from tests.support.waiting import SECRET, wait_for

pytestmark = pytest.mark.timeout(240)


def newsmon(settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        env={**os.environ, **settings.as_env()},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_retries_dead_letters_digest_and_dlq_resend(broker_settings, start_worker):
    """A 503 twice is retried with backoff under one webhook-id; a 404 is dead-lettered with the
    receiver's answer and resent by ``newsmon dlq replay`` once fixed; a digest sink gets one
    message for the window; Slack's 429 Retry-After is respected."""
    ensure_topics(broker_settings)
    names = KafkaTopicNames.for_settings(broker_settings)
    alerts = make_alerts(3, prefix="r")
    flaky, refused = alerts[0].id, alerts[1].id
    state = {"flaky_failures": 0, "fixed": False}

    def fail(request):
        if request.path != "/hook":
            return None
        msg_id = request.headers["webhook-id"]
        if msg_id == flaky and state["flaky_failures"] < 2:
            state["flaky_failures"] += 1
            return 503, "busy", {}
        if msg_id == refused and not state["fixed"]:
            return 404, "no such subscription", {}
        return None

    slack_script = [(429, "rate_limited", {"Retry-After": "2"})]
    with SlackReceiver(min_interval_s=0.2, script=slack_script) as slack, WebhookReceiver(SECRET, fail=fail) as hook:
        digest = {
            "type": "webhook",
            "name": "digest",
            "url": f"{hook.url}/digest",
            "secret": SECRET,
            "allow_networks": ["127.0.0.0/8"],
            "digest_minutes": 0.2,
        }
        write_sinks_yaml(
            broker_settings.config_dir,
            slack_url=f"{slack.url}/services/x",
            slack_rate=5,
            webhook_url=f"{hook.url}/hook",
            secret=SECRET,
            retry_delays_s=(1, 2, 4),
            extra=[digest],
        )
        start_worker()
        producer = KafkaProducer(bootstrap_servers=broker_settings.bootstrap_servers)
        for alert in alerts:
            producer.send(names.alerts, key=alert.story_id.encode(), value=alert.dumps(serializer="json"))
        producer.flush()

        def hook_requests(msg_id):
            return [r for r in list(hook.requests) if r.path == "/hook" and r.headers["webhook-id"] == msg_id]

        wait_for(lambda: any(r.status == 200 for r in hook_requests(flaky)), 60, "the flaky delivery to succeed")
        tries = hook_requests(flaky)
        assert [r.status for r in tries] == [503, 503, 200]
        gaps = [b.at - a.at for a, b in zip(tries, tries[1:])]
        assert gaps[0] >= 0.8 and gaps[1] >= 1.6, f"backoff 1 s then 2 s (±20 %), got {gaps}"
        assert len({r.headers["webhook-timestamp"] for r in tries}) >= 2, "each attempt is signed anew"

        letters = read_topic(broker_settings.bootstrap_servers[0], names.deadletter, until=lambda r: len(r) >= 1, timeout_s=30)
        (letter,) = [json.loads(r.value) for r in letters]
        assert (letter["stage"], letter["reason"], letter["sink"], letter["key"]) == ("deliver", "rejected", "hook", refused)
        assert "404 no such subscription" in letter["error"]
        assert len(hook_requests(refused)) == 1, "a 404 is not retried"

        listed = newsmon(broker_settings, "dlq", "list")
        assert listed.returncode == 0, listed.stderr
        assert "deliver/rejected sink=hook" in listed.stdout and refused in listed.stdout

        state["fixed"] = True
        replayed = newsmon(broker_settings, "dlq", "resend", "--sink", "hook")
        assert replayed.returncode == 0, replayed.stderr
        wait_for(lambda: any(r.status == 200 for r in hook_requests(refused)), 30, "the replayed delivery")

        wait_for(
            lambda: sum(len(r.json()["data"]["alerts"]) for r in hook.delivered() if r.path == "/digest") >= 3, 60, "the digest"
        )
        digests = [r.json() for r in hook.delivered() if r.path == "/digest"]
        assert all(d["type"] == "alert.digest" and d["version"] == 1 for d in digests)
        assert sorted(a["id"] for d in digests for a in d["data"]["alerts"]) == sorted(a.id for a in alerts)
        assert len(digests) <= 2 and max(len(d["data"]["alerts"]) for d in digests) >= 2, "alerts are batched"

        wait_for(lambda: set(slack.alert_ids()) == {a.id for a in alerts}, 30, "every alert on Slack")
        assert slack.early == 0, "nothing was sent to Slack before its Retry-After expired"
        assert not hook.rejected
