"""Settings handed to a child process as MONITOR_* variables come back equal."""

from __future__ import annotations

from pathlib import Path

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
