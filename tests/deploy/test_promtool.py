"""The shipped Prometheus config and rules pass promtool, and the rules' unit tests hold."""

from __future__ import annotations

import subprocess

from tests.deploy.queries import DEPLOY, RULE_FILES
from tests.support.prometheus import tool

PROMETHEUS_DIR = DEPLOY / "prometheus"


def _promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool("promtool"), *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=60)


def test_promtool_accepts_the_compose_prometheus_config():
    result = _promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 rule files found" in result.stdout


def test_promtool_accepts_every_rule_file():
    assert RULE_FILES, "no rule files shipped"
    result = _promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_on_its_condition_and_not_on_its_look_alike():
    """alerts.test.yml: promtool's rule unit tests (stale feed, processes down, lag, latency,
    a sink's first failure, dead letters)."""
    result = _promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_promtool_rejects_a_broken_rule_file(tmp_path):
    """The check above can fail: a rule with a PromQL syntax error is refused."""
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum by (feed (newsmon_feed_polls_total)\n"
    )
    result = _promtool("check", "rules", str(bad))
    assert result.returncode != 0
