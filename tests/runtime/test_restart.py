"""``newsmon run`` remembers across restarts: stories, deliveries and pending retries are on
disk (agents/state.py), and a fresh embedded broker does not make the worker misread them."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from monitor.runtime.broker import free_port
from tests.support.daemon import Daemon
from tests.support.feedbuild import rss_from_files
from tests.support.paths import seed
from tests.support.receivers import WebhookReceiver
from tests.support.waiting import SECRET, wait_for

pytestmark = [pytest.mark.shared, pytest.mark.timeout(300)]

#: The one retry of the flaky sink: long enough to fall after the restart.
RETRY_S = 30.0


def _sinks_yaml(config_dir, hook_url: str, flaky_url: str) -> None:
    def webhook(name: str, url: str, delays: list[float]) -> dict:
        return {
            "type": "webhook",
            "name": name,
            "url": url,
            "secret": SECRET,
            "allow_networks": ["127.0.0.0/8"],
            "retry_delays_s": delays,
            "retry_jitter": 0,
        }

    sinks = [
        {"type": "console"},
        {"type": "jsonl", "path": "alerts.jsonl"},
        webhook("hook", hook_url, [1, 2, 4]),
        webhook("flaky", flaky_url, [RETRY_S]),
    ]
    (config_dir / "sinks.yaml").write_text(yaml.safe_dump({"sinks": sinks}))


def _feeds_yaml(config_dir, httpserver, names: list[str]) -> None:
    feeds = [{"name": name, "url": httpserver.url_for(f"/{name}.xml"), "source": f"{name.title()} Wire"} for name in names]
    (config_dir / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))


@pytest.mark.parametrize("stop", ["ctrl_c", "kill_9"])
def test_a_restart_onto_a_fresh_broker_keeps_stories_deliveries_and_pending_retries(stop, httpserver, config_dir, tmp_path):
    """Seed 000 from one outlet raises an alert: the hook takes it, the flaky sink refuses it
    (a retry in RETRY_S). newsmon run stops (Ctrl-C, or SIGKILL to every process) and starts
    again on a new embedded broker with a second outlet carrying seed 001, the same story:
    no new-story alert, the hook gets nothing again, and the retry is delivered at its time."""
    httpserver.expect_request("/alpha.xml").respond_with_data(rss_from_files([seed("000")]))
    httpserver.expect_request("/beta.xml").respond_with_data(rss_from_files([seed("001")], base_url="https://other.example.net"))
    refusing = {"on": True}
    with (
        WebhookReceiver(SECRET) as hook,
        WebhookReceiver(SECRET, fail=lambda _r: (503, "busy", {}) if refusing["on"] else None) as flaky,
    ):
        _sinks_yaml(config_dir, f"{hook.url}/hook", f"{flaky.url}/flaky")
        _feeds_yaml(config_dir, httpserver, ["alpha"])
        data = tmp_path / "data"
        env = {
            "MONITOR_CONFIG_DIR": str(config_dir),
            "MONITOR_DATA_DIR": str(data),
            "MONITOR_POLLER_METRICS_PORT": str(free_port()),
            "MONITOR_WORKER_METRICS_PORT": str(free_port()),
            "MONITOR_METRICS_HOST": "127.0.0.1",
            "MONITOR_FETCH_ALLOWLIST": "127.0.0.0/8,::1",
            "MONITOR_BROKER_URL": "",
        }
        first = Daemon(env)
        try:
            first_ready = first.wait_for(r"newsmon ready in [\d.]+ s", 120)
            first.wait_for(r"newsmon alert · NEW STORY", 60)
            wait_for(lambda: len(hook.unique_ids()) == 1 and flaky.requests, 30, "the hook's delivery and the flaky refusal")
            refused_at = flaky.requests[0].at
            wait_for(lambda: first.sample("newsmon_deliveries_pending") >= 1, 20, "the retry in the pending table")
            alert_id = next(iter(hook.unique_ids()))
            if stop == "ctrl_c":
                assert first.ctrl_c() == 0
            else:
                killed = first.kill_tree()
                assert len(killed) >= 4, f"broker, poller, worker and daemon were running: {killed}"
        finally:
            first.stop()
        stopped_at = time.monotonic()
        assert stopped_at < refused_at + RETRY_S - 5, "premise: the retry falls due after the restart"
        refusing["on"] = False

        _feeds_yaml(config_dir, httpserver, ["alpha", "beta"])
        second = Daemon(env)
        try:
            second_ready = second.wait_for(r"newsmon ready in [\d.]+ s", 120)
            restarted_at = second.started
            wait_for(lambda: second.sample("newsmon_articles_total", outcome="decided") >= 1, 60, "seed 001 decided")
            wait_for(lambda: flaky.delivered(), RETRY_S + 30, "the retry scheduled before the stop")
            time.sleep(3)  # a duplicate or a new alert would come right behind
            second_output = second.output()
            decided = second.sample("newsmon_articles_total", outcome="decided")
            relevant = second.sample("newsmon_articles_total", outcome="relevant")
        finally:
            second.stop()

    retried = flaky.delivered()
    on_disk = sum(path.stat().st_size for path in (data / "faust").rglob("*") if path.is_file())
    print(f"first run: {first_ready}; after the restart: {second_ready}; tables on disk {on_disk / 1024:.0f} KiB")
    print(
        f"{stop}: refused at 0 s, stopped at {stopped_at - refused_at:.1f} s, restarted at {restarted_at - refused_at:.1f} s, "
        f"retry delivered at {retried[0].at - refused_at:.1f} s; second run decided {decided:.0f}, relevant {relevant:.0f}"
    )
    assert decided == 1 and relevant == 1, "the second run saw seed 001 only (the poller remembers 000)"
    assert "NEW STORY" not in second_output, second_output[-3000:]
    assert [r.headers["webhook-id"] for r in hook.delivered()] == [alert_id], "the delivered alert is not delivered again"
    assert [r.headers["webhook-id"] for r in retried] == [alert_id]
    assert retried[0].at >= refused_at + RETRY_S - 0.5, "a retry waits for its not_before, restart or not"
    assert retried[0].at > restarted_at
    alerts = [json.loads(line) for line in (data / "alerts.jsonl").read_text().splitlines()]
    assert [a["kind"] for a in alerts].count("new") == 1 and {a["story_id"] for a in alerts} == {alerts[0]["story_id"]}
