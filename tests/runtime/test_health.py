"""Liveness and readiness: a silent event loop fails /healthz; /readyz needs readiness too;
both are served beside /metrics by the one metrics server."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from prometheus_client import CollectorRegistry

from monitor.runtime.exposition import serve
from monitor.runtime.health import Health
from monitor.runtime.metrics import Metrics
from tests.support.prometheus import free_port


def test_a_process_is_alive_while_starting_and_while_its_loop_beats():
    now = [100.0]
    health = Health(stale_after_s=60, clock=lambda: now[0])
    assert health.live() == (True, "starting")
    health.beat()
    now[0] = 159.0
    assert health.live()[0] is True
    now[0] = 161.0
    alive, reason = health.live()
    assert alive is False and "61 s" in reason


def test_ready_needs_both_the_ready_flag_and_a_live_loop():
    now = [0.0]
    health = Health(stale_after_s=60, clock=lambda: now[0])
    health.beat()
    assert health.ready() == (False, "not ready yet")
    health.set_ready()
    assert health.ready()[0] is True
    now[0] = 100.0
    assert health.ready()[0] is False


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def served():
    now = [0.0]
    metrics = Metrics(CollectorRegistry())
    metrics.health = Health(stale_after_s=60, clock=lambda: now[0])
    port = free_port()
    server = serve(metrics, port, "127.0.0.1")
    yield metrics, f"http://127.0.0.1:{port}", now
    server.shutdown()
    server.server_close()


def test_health_endpoints_answer_200_or_503_beside_the_metrics_page(served):
    metrics, url, now = served
    metrics.articles.labels("tagged").inc(2)
    status, body = _get(f"{url}/metrics")
    assert status == 200 and 'newsmon_articles_total{outcome="tagged"} 2.0' in body
    assert _get(f"{url}/healthz")[0] == 200
    assert _get(f"{url}/readyz") == (503, "failing: not ready yet\n")
    metrics.health.beat()
    metrics.health.set_ready()
    assert _get(f"{url}/readyz")[0] == 200
    now[0] = 120.0  # the loop stopped beating two minutes ago
    status, body = _get(f"{url}/healthz")
    assert status == 503 and "event loop silent for 120 s" in body
    assert _get(f"{url}/readyz")[0] == 503


def test_port_zero_serves_nothing():
    assert serve(Metrics(CollectorRegistry()), 0) is None
