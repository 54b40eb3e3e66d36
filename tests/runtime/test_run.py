"""``newsmon run``: one command brings up broker, worker and poller, prints alerts, Ctrl-C stops all."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from tests.support.feedbuild import rss_from_files
from tests.support.paths import SEEDS

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared

pytestmark = pytest.mark.timeout(240)


def test_run_prints_an_alert_for_a_local_feed_and_stops_everything_on_ctrl_c(httpserver, config_dir, tmp_path):
    httpserver.expect_request("/seeds.xml").respond_with_data(rss_from_files(sorted(SEEDS.glob("*.txt"))))
    (config_dir / "feeds.yaml").write_text(
        f"feeds:\n  - name: seeds\n    url: {httpserver.url_for('/seeds.xml')}\n    source: Seed Wire\n"
    )
    env = {
        **os.environ,
        "MONITOR_CONFIG_DIR": str(config_dir),
        "MONITOR_DATA_DIR": str(tmp_path / "data"),
        "MONITOR_POLLER_METRICS_PORT": "0",
        "MONITOR_WORKER_METRICS_PORT": "0",
        "MONITOR_FETCH_ALLOWLIST": "127.0.0.0/8,::1",  # the feed is served on loopback
        "MONITOR_CONSOLE_PORT": str(_free_port()),
    }
    env.pop("MONITOR_BROKER_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, to get Ctrl-C the way a terminal sends it
    )
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()

    def wait_for(pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                if re.search(pattern, line):
                    return line
            time.sleep(0.2)
        raise AssertionError(f"no line matching {pattern!r}; output:\n{''.join(lines)[-5000:]}")

    try:
        ready = wait_for(r"newsmon ready in [\d.]+ s", 120)
        wait_for(r"newsmon alert · NEW STORY", 60)
        # 000 and 001 are one story: whichever the worker sees first raises its one alert.
        wait_for(r"Russia (has )?asked China", 5)
        assert float(re.search(r"ready in ([\d.]+) s", ready).group(1)) < 60
        # The processes it started are named in its log file, not on the terminal.
        log = (tmp_path / "data" / "logs" / "newsmon.log").read_text(encoding="utf-8")
        pids = [int(p) for p in re.findall(r"started \w+ \(pid (\d+)\)", log)]
        broker_pid = int(re.search(r"embedded broker ready on \S+ \(pid (\d+)\)", log).group(1))
        assert len(pids) == 3, "poller, worker and console"
        console = wait_for(r"console: http://127\.0\.0\.1:\d+/", 30).split("console: ")[1].strip()
        assert console == f"http://127.0.0.1:{env['MONITOR_CONSOLE_PORT']}/"
        deadline = time.monotonic() + 30
        while 'class="alert sev-' not in urllib.request.urlopen(console, timeout=5).read().decode():
            assert time.monotonic() < deadline, "the console never showed the alert"
            time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C goes to the whole foreground group
        code = process.wait(60)
    assert code == 0
    output = "".join(lines) + (tmp_path / "data" / "logs" / "newsmon.log").read_text(encoding="utf-8")
    # The broker must outlive the worker, or the worker cannot leave its group and is killed.
    assert "did not stop" not in output and "KafkaConnectionError" not in output, output[-3000:]
    time.sleep(0.5)
    for pid in pids + [broker_pid]:
        assert not _alive(pid), f"process {pid} survived newsmon run"
    assert re.search(r"Russia (has )?asked China", (tmp_path / "data" / "alerts.jsonl").read_text())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
