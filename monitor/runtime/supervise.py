"""``newsmon run``: broker, topics, worker, poller and console as one supervised daemon.

Children run in their own sessions (so a terminal's Ctrl-C reaches only us and we stop
them in order: poller, worker, broker) and die with us if we are killed outright.
A child that exits on its own is restarted with back-off; the daemon keeps running.
Near its memory budget the embedded broker is drained and replaced with a fresh one, and
the children restarted on it (``monitor.runtime.rotation``).
What reaches the terminal (summary, status lines, alerts, errors) is ``monitor.runtime.terminal``'s.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

from monitor.runtime.broker import EmbeddedBroker, die_with_parent
from monitor.runtime.health import WORKER_READY
from monitor.runtime.kafka_topics import ensure_topics
from monitor.runtime.metrics import process_rss_bytes
from monitor.runtime.rotation import Rotation, describe_budget, drain
from monitor.runtime.terminal import ChildLog, fetch_page, read_status, summary
from monitor.settings import Settings

log = logging.getLogger("newsmon.run")

STOP_TIMEOUT_S = 20.0
MAX_RESTART_DELAY_S = 60.0


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    log: ChildLog
    process: subprocess.Popen | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    restarts: int = 0
    next_start: float = 0.0

    def start(self) -> None:
        self.ready.clear()
        self.next_start = 0.0
        self.process = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        threading.Thread(target=self._echo, args=(self.process,), daemon=True, name=f"echo-{self.name}").start()
        threading.Thread(target=self._route_log, args=(self.process,), daemon=True, name=f"log-{self.name}").start()
        log.info("started %s (pid %d)", self.name, self.process.pid)

    def _echo(self, process: subprocess.Popen) -> None:
        """stdout carries alerts (the console sink) and the ready line."""
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode("utf-8", "replace")
            if WORKER_READY in line:
                self.ready.set()
                self.log.line(f"[INFO] {self.name}: {line}")
                continue
            sys.stdout.write(line)
            sys.stdout.flush()

    def _route_log(self, process: subprocess.Popen) -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            self.log.line(raw.decode("utf-8", "replace"))

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0f s; killing it", self.name, timeout)
            process.kill()
            process.wait()


def run_daemon(settings: Settings, *, log_level: str = "INFO", verbose: bool = False, log_path=None) -> int:
    """Run until SIGINT/SIGTERM; return the exit status."""
    began = time.monotonic()
    stopping = threading.Event()
    #: A second Ctrl-C: stop now, without finishing the articles in flight.
    hurry = threading.Event()

    def on_signal(*_) -> None:
        (hurry if stopping.is_set() else stopping).set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)

    rotation = None
    if not settings.bootstrap_servers:
        broker = EmbeddedBroker(log_path=settings.data_dir / "broker.log").start()
        settings = settings.with_overrides(
            broker_url=broker.url,
            embedded_broker=True,
            embedded_broker_pid=broker.pid,
            # A new broker, new changelog offsets: the worker's stored ones are for the last one.
            broker_incarnation=uuid.uuid4().hex,
        )
        rotation = Rotation(broker, settings, _child_env)
        log.info("embedded broker (Tansu, memory only) on %s; %s", broker.url, describe_budget(settings))
    _say(
        *summary(
            settings,
            broker=f"embedded Tansu on {settings.broker_url} (memory only)" if rotation else f"Kafka at {settings.broker_url}",
            feeds=_count_feeds(settings),
            sinks=_sink_names(settings),
            log_path=log_path or settings.data_dir,
        )
    )
    env = _child_env(settings)
    base = [sys.executable, "-m", "monitor", "--log-level", log_level]
    children = [
        Child("poller", base + ["poll"], env, ChildLog(verbose=verbose)),
        Child("worker", base + ["worker", "--quiet"], env, ChildLog(verbose=verbose)),
    ]
    if settings.console_port:  # it prints "console: http://127.0.0.1:<port>/" once it listens
        children.append(Child("console", base + ["console"], env, ChildLog(verbose=verbose)))
    try:
        ensure_topics(settings)
        for child in children:
            child.start()
        worker = children[1]
        announced = False
        warned_at = 0.0
        next_status = time.monotonic() + settings.status_interval_s
        while not stopping.is_set():
            if not announced and worker.ready.is_set():
                announced = True
                _say(f"newsmon ready in {time.monotonic() - began:.1f} s; alerts appear below")
            if time.monotonic() >= next_status:
                next_status = time.monotonic() + settings.status_interval_s
                _say(_status_line(settings))
            for child in children:
                _supervise(child)
            if rotation is not None:
                if rotation.due():
                    outcome = rotation.rotate(children, stopping.is_set)
                    if outcome is not None:
                        _say(outcome.line())
                warned_at = _check_broker_memory(rotation.broker.pid, settings.embedded_broker_warn_bytes, warned_at)
            stopping.wait(0.5)
        return 0
    finally:
        log.info("stopping")
        children[0].stop()  # the poller first: stop producing before the worker stops consuming
        if rotation is not None and children[1].exited() is None:
            _finish_in_flight(rotation.settings, hurry)
        for child in children[1:]:
            child.stop()
        if rotation is not None:
            rotation.broker.stop()
        log.info("stopped")


#: How long a stop waits for the worker to decide and deliver what the memory-only broker holds.
STOP_DRAIN_S = 30.0


def _finish_in_flight(settings: Settings, hurry: threading.Event) -> None:
    """Before the memory-only broker goes: let the worker decide every article the poller has
    already recorded as sent and hand every alert to a sink or the retry table on disk, or
    they would be lost with the broker (the poller never sends them again)."""
    _say(f"finishing the articles in flight (up to {STOP_DRAIN_S:.0f} s; Ctrl-C again to stop now)")
    try:
        done, left = drain(settings.with_overrides(rotation_drain_timeout_s=STOP_DRAIN_S), hurry.is_set)
    except Exception as exc:  # a broker that no longer answers: nothing left to wait for
        log.warning("in-flight work not measured before stopping: %s: %s", type(exc).__name__, exc)
        return
    if not done:
        log.warning("stopping with %d messages not yet processed: they are lost with the embedded broker", left)


def _child_env(settings: Settings) -> dict[str, str]:
    """The environment of the children: ours, with the broker this daemon runs on."""
    return dict(
        os.environ,
        MONITOR_BROKER_URL=settings.broker_url,
        MONITOR_EMBEDDED_BROKER=str(settings.embedded_broker).lower(),
        MONITOR_EMBEDDED_BROKER_PID=str(settings.embedded_broker_pid),
        MONITOR_BROKER_INCARNATION=settings.broker_incarnation,
        MONITOR_EMBEDDED_BROKER_ROTATIONS=str(settings.embedded_broker_rotations),
    )


def _say(*lines: str) -> None:
    """Lines for the person at the terminal (stdout, beside the alerts), also kept in the log."""
    for line in lines:
        log.info("%s", line)
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _status_line(settings: Settings) -> str:
    pages = [fetch_page(settings.poller_metrics_port), fetch_page(settings.worker_metrics_port)]
    return read_status(settings, pages).line(time.strftime("%H:%M:%S"))


def _count_feeds(settings: Settings) -> int:
    from monitor.configfile import ConfigError
    from monitor.ingest.feedlist import load_feeds

    try:
        return len(load_feeds(settings.config_file("feeds.yaml")).enabled)
    except (ConfigError, OSError):
        return 0  # the poller reports the problem itself


def _sink_names(settings: Settings) -> list[str]:
    from monitor.configfile import ConfigError
    from monitor.sinks import load_sinks

    try:
        return [
            f"{sink.name} ({sink.type_name})" if sink.name != sink.type_name else sink.name
            for sink in load_sinks(settings.config_file("sinks.yaml"), settings.data_dir)
        ]
    except (ConfigError, OSError):
        return []


def _supervise(child: Child) -> None:
    code = child.exited()
    if code is None:
        return
    now = time.monotonic()
    if child.next_start == 0.0:
        delay = min(MAX_RESTART_DELAY_S, 2.0 ** min(child.restarts, 6))
        child.next_start = now + delay
        log.error("%s exited with status %s; restarting in %.0f s", child.name, code, delay)
    elif now >= child.next_start:
        child.restarts += 1
        child.start()


BROKER_WARNING_EVERY_S = 3600.0


def _check_broker_memory(pid: int, limit: int, warned_at: float) -> float:
    """Warn (at most hourly) when the memory-only broker outgrows ``limit``; returns when it warned."""
    now = time.monotonic()
    if not limit or now - warned_at < BROKER_WARNING_EVERY_S and warned_at:
        return warned_at
    rss = process_rss_bytes(pid)
    if rss is None or rss < limit:
        return warned_at
    log.warning(
        "the embedded broker holds %.1f GiB (limit %.1f GiB): it keeps every message in memory; "
        "point MONITOR_BROKER_URL at Kafka for a long-running deployment (see the README)",
        rss / 2**30,
        limit / 2**30,
    )
    return now
