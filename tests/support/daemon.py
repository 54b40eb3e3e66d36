"""``newsmon run`` as a real child process: its terminal output, its metrics, and the two
ways it ends — Ctrl-C to its process group, or SIGKILL to every process it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

from monitor.runtime.broker import free_port
from monitor.runtime.terminal import fetch_page
from tests.support.worker import _processes, running


class Daemon:
    def __init__(self, env: dict[str, str]):
        self.env = env
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run"],
            env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,  # its own process group, for Ctrl-C the way a terminal sends it
        )
        threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True).start()
        self.started = time.monotonic()

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output())
            if found:
                return found.group(0)
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} from newsmon run; output:\n{self.output()[-5000:]}")

    def sample(self, name: str, **labels: str) -> float:
        """Sum of one metric over the poller's and worker's pages (0 while they do not answer)."""
        from prometheus_client.parser import text_string_to_metric_families

        total = 0.0
        for port in (self.env["MONITOR_POLLER_METRICS_PORT"], self.env["MONITOR_WORKER_METRICS_PORT"]):
            page = fetch_page(int(port))
            for family in text_string_to_metric_families(page or ""):
                for sample in family.samples:
                    if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                        total += sample.value
        return total

    def tree(self) -> set[int]:
        """Pids of this daemon and every live process under it (broker, poller, worker, spaCy)."""
        parents = {pid: ppid for pid, (ppid, _) in _processes().items()}
        found, frontier = {self.process.pid}, {self.process.pid}
        while frontier:
            frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
            found |= frontier
        return running(found)

    def ctrl_c(self, timeout: float = 60) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout)

    def kill_tree(self) -> set[int]:
        """SIGKILL to every process at once: no shutdown hook anywhere, as in a power cut."""
        pids = self.tree()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(10)
        deadline = time.monotonic() + 10
        while running(pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        return pids

    def stop(self) -> None:
        """Whatever state it is in, leave nothing running (test teardown)."""
        if self.process.poll() is None:
            try:
                self.ctrl_c(60)
            except subprocess.TimeoutExpired:
                self.kill_tree()


def busy_feed_env(config_dir, data, **extra: str) -> dict[str, str]:
    """``newsmon run`` on its embedded broker, polling loopback feeds every second, with its
    metrics and console on free ports (the rotation tests and ``bench/longrun``)."""
    return {
        "MONITOR_CONFIG_DIR": str(config_dir),
        "MONITOR_DATA_DIR": str(data),
        "MONITOR_POLLER_METRICS_PORT": str(free_port()),
        "MONITOR_WORKER_METRICS_PORT": str(free_port()),
        "MONITOR_CONSOLE_PORT": str(free_port()),
        "MONITOR_METRICS_HOST": "127.0.0.1",
        "MONITOR_FETCH_ALLOWLIST": "127.0.0.0/8,::1",
        "MONITOR_BROKER_URL": "",
        "MONITOR_POLL_MIN_INTERVAL_S": "1",
        "MONITOR_POLL_JITTER": "0",
        # Every second, whatever few items a week the first poll suggested.
        "MONITOR_POLL_CHECKS_PER_ITEM": "1000000",
        **extra,
    }
