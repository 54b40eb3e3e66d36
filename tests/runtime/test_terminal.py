"""What ``newsmon run`` shows a person at a terminal: a summary, status lines and alerts;
Faust's tables and library logs go to the log file."""

import os
import pty
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from prometheus_client import generate_latest

from monitor.runtime.broker import free_port
from monitor.runtime.metrics import Metrics
from monitor.runtime.terminal import read_status
from monitor.settings import Settings
from tests.support.feedbuild import rss_from_files
from tests.support.paths import SEEDS

#: Box-drawing characters Faust draws its start-up tables with.
BOX = "┌┐└┘│─├┤┬┴┼╒╕╘╛═║"
SCREEN_LINES = 24


@pytest.mark.shared
@pytest.mark.timeout(240)
def test_run_under_a_terminal_shows_a_summary_status_and_alerts_and_no_faust_tables(httpserver, config_dir, tmp_path):
    httpserver.expect_request("/seeds.xml").respond_with_data(rss_from_files(sorted(SEEDS.glob("*.txt"))))
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - name: seeds\n    url: {httpserver.url_for('/seeds.xml')}\n    source: Seed Wire\n"
    )
    data = tmp_path / "data"
    env = {
        **os.environ,
        "MONITOR_CONFIG_DIR": str(config_dir),
        "MONITOR_DATA_DIR": str(data),
        "MONITOR_POLLER_METRICS_PORT": str(free_port()),
        "MONITOR_WORKER_METRICS_PORT": str(free_port()),
        "MONITOR_METRICS_HOST": "127.0.0.1",
        "MONITOR_STATUS_INTERVAL_S": "3",
        "MONITOR_FETCH_ALLOWLIST": "127.0.0.0/8,::1",
        "COLUMNS": "160",
    }
    for name in ("MONITOR_BROKER_URL", "MONITOR_LOG_LEVEL"):
        env.pop(name, None)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run"],
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: every process holding it exited
                return
            if not chunk:
                return
            chunks.append(chunk)

    threading.Thread(target=read, daemon=True).start()

    def screen() -> str:
        return b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")

    def wait_for(pattern: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, screen()):
                return
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} on the terminal:\n{screen()[-4000:]}")

    try:
        wait_for(r"newsmon ready in [\d.]+ s", 120)
        wait_for(r"newsmon alert · NEW STORY", 60)
        wait_for(r"feeds 1 ok / 0 failing · articles 5 polled, 5 decided, [1-5] relevant · alerts [1-5]", 30)
    finally:
        os.killpg(process.pid, signal.SIGINT)
        code = process.wait(60)
    time.sleep(0.3)
    os.close(leader)
    text = screen()
    first = "\n".join(text.splitlines()[:SCREEN_LINES])
    print(text)
    assert code == 0
    for part in (
        "broker      embedded Tansu on 127.0.0.1:",
        "feeds       1 enabled",
        "sinks       console",
        "metrics     poller http://127.0.0.1:",
        "data        ",
        "log         ",
    ):
        assert part in first, f"{part!r} not on the first screen:\n{first}"
    assert not set(BOX) & set(text), f"a Faust table reached the terminal:\n{text}"
    assert not re.search(r"^\+-{10,}", text, re.M), f"a Faust table (drawn in ASCII) reached the terminal:\n{text}"
    assert "[INFO]" not in text, "library INFO logs belong in the log file"
    log = (data / "logs" / "newsmon.log").read_text(encoding="utf-8")
    # Piped into the supervisor, Faust draws its tables in ASCII; they are all in the file.
    assert "Final Subscription" in log and re.search(r"^\+-{10,}", log, re.M)
    assert re.search(r"started worker \(pid \d+\)", log)


def test_the_status_line_sums_the_poller_and_worker_pages():
    poller, worker = Metrics(), Metrics()
    poller.articles.labels("polled").inc(7)
    poller.feed_freshness.polled("fresh", True, when=time.time())
    poller.feed_freshness.polled("stale", True, when=time.time() - 10_000)
    worker.articles.labels("decided").inc(6)
    worker.articles.labels("relevant").inc(2)
    worker.alerts.labels("pair-sentence-trigger", "new").inc()
    worker.deliveries.labels("console", "delivered").inc()
    pages = [generate_latest(m.registry).decode() for m in (poller, worker)] + [None]
    status = read_status(Settings(poll_interval_s=600), pages)
    assert (status.feeds_ok, status.feeds_failing, status.polled, status.decided, status.relevant, status.alerts) == (
        1,
        1,
        7,
        6,
        2,
        1,
    )
    assert status.line("12:00:00") == (
        "[12:00:00] feeds 1 ok / 1 failing · articles 7 polled, 6 decided, 2 relevant · alerts 1 (1 deliveries) · lag 0"
        " · 1 metrics page(s) not answering"
    )


def test_a_feed_whose_last_poll_failed_is_failing_before_it_is_stale():
    """Under ``newsmon run`` without a network every poll fails at once; the first status line
    must say so, not report the feeds ok until two poll intervals have passed."""
    poller = Metrics()
    poller.feed_freshness.known(["down", "up", "recovered"])
    poller.feed_freshness.polled("down", False)
    poller.feed_freshness.polled("up", True)
    poller.feed_freshness.polled("recovered", False)
    poller.feed_freshness.polled("recovered", True)
    status = read_status(Settings(poll_interval_s=600), [generate_latest(poller.registry).decode()])
    assert (status.feeds_ok, status.feeds_failing) == (2, 1)


def test_the_status_line_says_how_often_the_embedded_broker_was_replaced():
    from monitor.runtime.metrics import EmbeddedBrokerRotations

    poller = Metrics()
    assert "replaced" not in read_status(Settings(), [generate_latest(poller.registry).decode()]).line("12:00:00")
    poller.registry.register(EmbeddedBrokerRotations(2))
    status = read_status(Settings(), [generate_latest(poller.registry).decode()])
    assert status.rotations == 2
    assert status.line("12:00:00").endswith(" · lag 0 · broker replaced 2×")
