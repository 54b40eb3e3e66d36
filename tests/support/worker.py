"""Running ``newsmon worker`` as a real child process against the test broker."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from agents.worker import WORKER_READY


class WorkerProcess:
    """A ``python -m monitor worker`` child; its output is kept for assertions and errors."""

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.ready = threading.Event()
        self.lines: list[str] = []

    def start(self, timeout_s: float = 90.0) -> "WorkerProcess":
        self.ready.clear()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "worker"],
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        deadline = time.monotonic() + timeout_s
        while not self.ready.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"worker did not become ready; its output:\n{self.output()[-4000:]}")
        return self

    def _read(self, process: subprocess.Popen) -> None:
        with self.log_path.open("a", encoding="utf-8") as log:
            for raw in process.stdout:
                line = raw.decode("utf-8", "replace")
                self.lines.append(line)
                log.write(line)
                if WORKER_READY in line:
                    self.ready.set()

    def output(self) -> str:
        return "".join(self.lines)

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no final commit — a crash."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
