"""Settings handed to a child process as MONITOR_* variables come back equal; bounds that
would lose needed state are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.settings import Settings


def test_settings_as_env_load_back_equal_in_a_child(monkeypatch, tmp_path: Path):
    settings = Settings(
        data_dir=tmp_path / "data", embedded_broker=True, partitions=7, fetch_allowlist="127.0.0.0/8,::1", worker_metrics_port=0
    )
    env = settings.as_env()
    assert env["MONITOR_PARTITIONS"] == "7" and env["MONITOR_EMBEDDED_BROKER"] == "true"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings() == settings


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ledger_retention_s": 3600.0}, "ledger_retention_s (3600) must be at least story_window_s (604800)"),
        ({"console_decision_retention_days": 30}, "console_decision_retention_days must be 0 (keep all) or at least 90"),
    ],
)
def test_retentions_that_would_forget_what_is_still_needed_are_refused(changes, message):
    """A ledger shorter than a story's window loses the thread of its escalations; a console
    retention shorter than the activity page's days empties its near misses."""
    with pytest.raises(ValidationError, match=re.escape(message)):
        Settings(**changes)


def test_retentions_at_their_bounds_and_0_are_accepted():
    assert Settings(ledger_retention_s=7 * 24 * 3600.0).ledger_retention_s == 604800
    assert Settings(console_decision_retention_days=0).console_decision_retention_days == 0
    assert Settings(console_decision_retention_days=90).console_decision_retention_days == 90
