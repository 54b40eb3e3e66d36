"""Running ``newsmon worker`` as a real child process against the test broker."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from monitor.runtime.health import WORKER_READY


class WorkerProcess:
    """A ``python -m monitor worker`` child; its output is kept for assertions and errors."""

    def __init__(self, env: dict[str, str], log_path: Path, python_args: list[str] | None = None):
        self.env = env
        # Interpreter options before ``-m monitor worker``: a benchmark runs it under cProfile.
        self.python_args = python_args or []
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.ready = threading.Event()
        self.lines: list[str] = []

    def start(self, timeout_s: float = 90.0) -> WorkerProcess:
        self.ready.clear()
        self.process = subprocess.Popen(
            [sys.executable, *self.python_args, "-m", "monitor", "worker"],
            # Unbuffered, so a SIGKILLed worker's log keeps its last lines.
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
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
        # Line-buffered: a killed worker's orphaned children may hold the pipe open, so
        # this thread may never see EOF and close the file.
        with self.log_path.open("a", encoding="utf-8", buffering=1) as log:
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

    def descendants(self) -> set[int]:
        """Pids of the live processes this worker started (tag pool, multiprocessing helpers)."""
        parents = {pid: ppid for pid, (ppid, _) in _processes().items()}
        found, frontier = set(), {self.process.pid} if self.process else set()
        while frontier:
            frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
            found |= frontier
        return found

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def running(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (an exited process awaiting its reaper is not)."""
    return {pid for pid, (_, state) in _processes().items() if pid in pids and state != "Z"}


def _processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state) from /proc."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue  # gone meanwhile
        table[int(stat.parent.name)] = (int(ppid), state)
    return table
