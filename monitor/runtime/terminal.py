"""What ``newsmon run`` shows a person: a start-up summary, a status line every few minutes,
the alerts, and errors. Everything else (Faust's tables, aiokafka, library INFO logs) goes
to a rotating log file in the data directory; ``--verbose`` brings it back to the terminal.

The children (poller, worker) log to stderr and write alerts and their ready line to
stdout; the supervisor routes each stream line by line, so one process alone writes the
log file and rotation never races.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from monitor.settings import Settings

#: The logger child stderr lines are re-logged under; its records are already formatted.
CHILD_LOGGER = "newsmon.child"
LOG_FORMAT = "[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s"
LOG_FILE_BYTES = 10 * 1024 * 1024
LOG_FILE_BACKUPS = 5
_LEVEL = re.compile(r"\[(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\]")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class _ChildAware(logging.Formatter):
    """Formats the supervisor's own records; passes child lines through as they came."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == CHILD_LOGGER:
            return record.getMessage()
        return super().format(record)


def log_file(settings: Settings) -> Path:
    return settings.data_dir / "logs" / "newsmon.log"


def setup_daemon_logging(settings: Settings, level: str, *, verbose: bool) -> Path:
    """Root logging for ``newsmon run``: everything at ``level`` to the rotating file, and
    to the terminal only warnings (every record at ``level`` when ``verbose``)."""
    path = log_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.handlers.RotatingFileHandler(path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILE_BACKUPS, encoding="utf-8")
    to_file.setFormatter(_ChildAware(LOG_FORMAT))
    to_terminal = logging.StreamHandler(sys.stderr)
    to_terminal.setFormatter(_ChildAware(LOG_FORMAT))
    to_terminal.setLevel(level if verbose else logging.WARNING)
    root = logging.getLogger()
    root.handlers[:] = [to_file, to_terminal]
    root.setLevel(level)
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    return path


class ChildLog:
    """Routes one child's stderr lines: all to the log file, errors (and their traceback)
    also to the terminal, every line when verbose."""

    def __init__(self, *, verbose: bool):
        self.verbose = verbose
        self._logger = logging.getLogger(CHILD_LOGGER)
        self._level = logging.INFO

    def line(self, text: str) -> None:
        text = _ANSI.sub("", text.rstrip("\n"))
        found = _LEVEL.search(text[:80])
        if found:  # a line without a level continues the record before it (a traceback)
            self._level = logging.getLevelNamesMapping()[found.group(1)]
        record = self._logger.makeRecord(CHILD_LOGGER, self._level, __file__, 0, text, (), None)
        for handler in logging.getLogger().handlers:
            # Child warnings stay in the file (Faust's are many and rarely actionable);
            # errors reach the terminal, everything does when verbose.
            if isinstance(handler, logging.handlers.RotatingFileHandler) or self.verbose or self._level >= logging.ERROR:
                if self._level >= handler.level:
                    handler.handle(record)


# --- start-up summary ------------------------------------------------------------------
def summary(settings: Settings, *, broker: str, feeds: int, sinks: Iterable[str], log_path: Path) -> list[str]:
    """The lines printed once when ``newsmon run`` starts."""

    def metrics_url(port: int) -> str:
        host = "127.0.0.1" if settings.metrics_host in ("0.0.0.0", "::", "") else settings.metrics_host
        return f"http://{host}:{port}/metrics" if port else "off"

    return [
        "newsmon run",
        f"  broker      {broker}",
        f"  feeds       {feeds} enabled ({settings.config_file('feeds.yaml')})",
        f"  sinks       {', '.join(sinks) or 'none'}",
        f"  metrics     poller {metrics_url(settings.poller_metrics_port)} · worker {metrics_url(settings.worker_metrics_port)}",
        f"  data        {settings.data_dir.resolve()}",
        f"  log         {log_path.resolve()} (newsmon run --verbose shows it here)",
        f"  status      every {settings.status_interval_s:.0f} s; Ctrl-C stops everything",
    ]


# --- the status line -------------------------------------------------------------------
@dataclass
class Status:
    """What one status line reports, summed from the children's metrics pages."""

    feeds_ok: int = 0
    feeds_failing: int = 0
    polled: float = 0
    decided: float = 0
    relevant: float = 0
    alerts: float = 0
    delivered: float = 0
    lag: float = 0
    #: Times the embedded broker was replaced (``monitor.runtime.rotation``).
    rotations: float = 0
    unread: int = 0  # metrics pages that did not answer

    def line(self, clock: str) -> str:
        text = (
            f"[{clock}] feeds {self.feeds_ok} ok / {self.feeds_failing} failing · articles {self.polled:.0f} polled, "
            f"{self.decided:.0f} decided, {self.relevant:.0f} relevant · alerts {self.alerts:.0f} "
            f"({self.delivered:.0f} deliveries) · lag {self.lag:.0f}"
        )
        if self.rotations:
            text += f" · broker replaced {self.rotations:.0f}×"
        return text + (f" · {self.unread} metrics page(s) not answering" if self.unread else "")


def read_status(settings: Settings, pages: Iterable[str | None]) -> Status:
    """Sum the status figures over metrics pages (``None``: a page that did not answer)."""
    status = Status()
    stale_after = 2 * settings.poll_interval_s + settings.http_timeout_s
    feeds: dict[str, list[float]] = {}  # feed -> [seconds since success, failures in a row]
    for page in pages:
        if page is None:
            status.unread += 1
            continue
        for family in text_string_to_metric_families(page):
            for sample in family.samples:
                name, labels, value = sample.name, sample.labels, sample.value
                if name == "newsmon_articles_total":
                    outcome = labels.get("outcome")
                    if outcome in ("polled", "decided", "relevant"):
                        setattr(status, outcome, getattr(status, outcome) + value)
                elif name == "newsmon_alerts_total":
                    status.alerts += value
                elif name == "newsmon_deliveries_total" and labels.get("outcome") == "delivered":
                    status.delivered += value
                elif name == "newsmon_embedded_broker_rotations_total":
                    status.rotations += value
                elif name == "newsmon_consumer_lag":
                    status.lag += value
                elif name == "newsmon_feed_seconds_since_success":
                    feeds.setdefault(labels.get("feed", ""), [0.0, 0.0])[0] = value
                elif name == "newsmon_feed_consecutive_errors":
                    feeds.setdefault(labels.get("feed", ""), [0.0, 0.0])[1] = value
    # A feed fails when its last poll failed or it has not worked for two intervals.
    status.feeds_failing = sum(since > stale_after or errors > 0 for since, errors in feeds.values())
    status.feeds_ok = len(feeds) - status.feeds_failing
    return status


def fetch_page(port: int, timeout_s: float = 2.0) -> str | None:
    """A child's metrics page on loopback, or None (not served, not up yet, not answering)."""
    if not port:
        return None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout_s) as response:
            return response.read().decode("utf-8", "replace")
    except OSError:
        return None
