"""``newsmon replay``: one JSON object per input article, in input order, with the documented fields."""

import io
import json
import subprocess
import sys

import pytest

from monitor.offline.replay import Replayer, replay
from tests.support.paths import CORPUS, SEEDS, seed

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared

CONTRACT = {"id", "relevant", "alert", "topics", "story", "actors", "evidence"}


def test_replay_command_over_the_seeds(settings):
    seeds = sorted(SEEDS.glob("*.txt"))
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "replay", *map(str, seeds)],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
        env={"MONITOR_CONFIG_DIR": str(settings.config_dir), "PATH": "/usr/bin:/bin"},
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [p.stem for p in seeds]
    assert all(CONTRACT <= set(r) for r in rows)
    by_id = {r["id"]: r for r in rows}
    first = by_id[seed("000").stem]
    assert first["relevant"] and first["alert"] and "military_aid" in first["topics"]
    assert {"RUS", "CHN"} <= set(first["actors"]) and first["evidence"]
    assert by_id[seed("004").stem]["alert"] is False
    assert "replayed 5 articles" in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], "piped: no progress bar, only the summary"


def test_replay_on_a_terminal_shows_a_progress_bar(settings):
    """stderr a terminal (a pseudo-terminal here): tqdm draws its bar there; stdout stays JSON."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "replay", *map(str, sorted(SEEDS.glob("*.txt")))],
        stdout=subprocess.PIPE,
        stderr=follower,
        timeout=180,
        check=True,
        env={"MONITOR_CONFIG_DIR": str(settings.config_dir), "PATH": "/usr/bin:/bin"},
    )
    os.close(follower)
    terminal = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        terminal += chunk
    os.close(leader)
    assert b"replay: " in terminal and b"articles" in terminal and b"replayed 5 articles" in terminal, terminal
    assert len(result.stdout.decode().splitlines()) == 5


def test_replay_reads_the_input_order_reversed_too(tagger, settings):
    seeds = sorted(SEEDS.glob("*.txt"))[::-1]
    out = io.StringIO()
    stats = replay(seeds, Replayer(tagger, settings), out)
    assert stats.articles == 5 and stats.failed == 0
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == [p.stem for p in seeds]


def test_replay_over_a_whole_corpus_file(tagger, settings):
    out = io.StringIO()
    stats = replay([CORPUS / "subina-maharjan_Guardians_Russia_Ukraine.csv"], Replayer(tagger, settings), out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert stats.articles == len(rows) == 188 and stats.failed == 0
    assert len({r["id"] for r in rows}) == 188
    assert 0 < stats.relevant < 40, "some, not most, Guardian war articles are about Russia–China aid or sanctions"
    assert stats.alerts <= stats.relevant
