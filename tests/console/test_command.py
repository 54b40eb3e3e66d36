"""``newsmon console`` as a process: prints its address, serves, stops on SIGTERM; refuses
to listen beyond loopback without a token."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import urllib.request

from monitor.runtime.kafka_topics import ensure_topics
from tests.support.prometheus import free_port


def _env(settings, **extra: str) -> dict[str, str]:
    return {**os.environ, **settings.as_env(), **extra}


def test_console_prints_its_address_serves_and_stops_on_sigterm(broker_settings):
    ensure_topics(broker_settings)
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "console"],
        env=_env(broker_settings, MONITOR_CONSOLE_PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = ""
        while not line.startswith("console: "):
            line = process.stdout.readline()
            assert line, "the console exited before printing its address"
        assert line.strip() == f"console: http://127.0.0.1:{port}/"
        page = urllib.request.urlopen(line.split(" ", 1)[1].strip(), timeout=10)
        assert page.status == 200 and page.headers["Content-Security-Policy"].startswith("default-src 'none'")
        process.terminate()
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_console_refuses_to_listen_beyond_loopback_without_a_token(settings):
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "console"],
        env=_env(settings, MONITOR_CONSOLE_HOST="0.0.0.0", MONITOR_CONSOLE_PORT=str(free_port()), MONITOR_CONSOLE_TOKEN=""),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "beyond loopback, without a token" in result.stderr


def test_feedback_export_and_eval_feedback_read_the_read_model(settings, tmp_path):
    from monitor.console.serve import READ_MODEL
    from monitor.console.store import ReadModel
    from monitor.models import Feedback, utcnow
    from tests.support.console import story_records

    model = ReadModel(settings.data_dir / READ_MODEL)
    alerts, decisions = story_records()
    model.store(
        alerts,
        decisions,
        [
            Feedback(
                id="f1",
                verdict="relevant",
                story_id="story-a",
                alert_id="story-a-new",
                article_id="story-a-art1",
                created_at=utcnow(),
            )
        ],
    )
    model.close()
    out = tmp_path / "judged.csv"
    export = subprocess.run(
        [sys.executable, "-m", "monitor", "feedback", "export", "-o", str(out)],
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert export.returncode == 0 and "1 judgement(s)" in export.stderr
    (row,) = csv.DictReader(out.open(encoding="utf-8"))
    assert (row["file"], row["id"], row["relevant"], row["topics"], row["story"], row["split"]) == (
        "feedback", "story-a-art1", "1", "military_aid", "story-a", "feedback",
    )  # fmt: skip
    assert row["note"].startswith("relevant on ") and row["drawn"] == "feedback"
    precision = subprocess.run(
        [sys.executable, "-m", "monitor", "eval", "--feedback", "30"],
        env=_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert precision.returncode == 0
    assert "topic military_aid" in precision.stdout and "1.00" in precision.stdout
