"""Sampling CPU time and peak RSS of the processes a benchmark runs (and their children)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import psutil


@dataclass
class ProcessStats:
    role: str
    peak_rss: int = 0
    #: The watched process alone, without its children (a worker without its spaCy process).
    peak_own_rss: int = 0
    cpu_seconds: float = 0.0
    samples: list[tuple[float, int]] = field(default_factory=list)


class ResourceSampler:
    """Samples each watched process tree every ``interval`` seconds in a background thread.

    CPU seconds are the tree's (process + children) user+system time at the last sample minus
    at the first, so start-up cost (model load) is excluded when ``start`` follows readiness.
    """

    def __init__(self, interval: float = 0.25):
        self.interval = interval
        self._watched: dict[str, psutil.Process] = {}
        self._stats: dict[str, ProcessStats] = {}
        self._cpu_start: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, role: str, pid: int) -> None:
        self._watched[role] = psutil.Process(pid)
        self._stats[role] = ProcessStats(role)

    @staticmethod
    def _tree(process: psutil.Process) -> list[psutil.Process]:
        try:
            return [process] + process.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def _cpu(self, process: psutil.Process) -> float:
        total = 0.0
        for proc in self._tree(process):
            try:
                times = proc.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def _rss(self, process: psutil.Process) -> int:
        total = 0
        for proc in self._tree(process):
            try:
                total += proc.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def start(self) -> None:
        for role, process in self._watched.items():
            self._cpu_start[role] = self._cpu(process)
        self._thread = threading.Thread(target=self._run, daemon=True, name="resource-sampler")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        now = time.monotonic()
        for role, process in self._watched.items():
            rss = self._rss(process)
            stats = self._stats[role]
            stats.peak_rss = max(stats.peak_rss, rss)
            try:
                stats.peak_own_rss = max(stats.peak_own_rss, process.memory_info().rss)
            except psutil.NoSuchProcess:
                pass
            stats.samples.append((now, rss))
            stats.cpu_seconds = max(stats.cpu_seconds, self._cpu(process) - self._cpu_start.get(role, 0.0))

    def stop(self) -> dict[str, ProcessStats]:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.sample()
        return self._stats


def mib(value: int) -> str:
    return f"{value / 2**20:.0f} MiB"
