"""``newsmon replay``: one JSON object per input article, in input order, with the documented fields."""

import binascii
import io
import json
import subprocess
import sys

import pytest

from monitor.nlp.tag import Tagger
from monitor.offline.readers import read_articles
from monitor.offline.replay import Replayer, failure, replay
from monitor.relevance import similarity
from tests.support.faults import LADDER_BROKE, LadderThatBreaks, claims_that_break_on
from tests.support.paths import CORPUS, SEEDS, seed

#: Reads ../shared (real seeds, corpus or feed snapshots): fails clearly when it is missing.
pytestmark = pytest.mark.shared

CONTRACT = {"id", "relevant", "alert", "topics", "story", "actors", "evidence"}
ROUTE = "CHN|RUS"


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


def test_the_article_whose_possessive_entity_stopped_replay_is_decided(tagger, settings):
    """abp-QKatURNRtMgdODwK has a bare "’s" tagged as a place; replay once stopped there."""
    wanted = "abp-QKatURNRtMgdODwK"
    (article,) = [a for a in read_articles([CORPUS / "article-bias-prediction_2012-2020_russia_china.jsonl"]) if a.id == wanted]
    ((_, decision, error),) = list(Replayer(tagger, settings).decisions([article]))
    assert error == "" and decision is not None and decision.id == wanted and decision.story


def test_a_claims_failure_prints_an_error_record_and_the_rest_go_on(tagger, settings):
    broken = Tagger(
        tagger.nlp, tagger.watchlist, claim_extractor=claims_that_break_on("asked China to send", tagger.claim_extractor)
    )
    seeds = sorted(SEEDS.glob("*.txt"))
    out = io.StringIO()
    stats = replay(seeds, Replayer(broken, settings), out)
    rows = {row["id"]: row for row in map(json.loads, out.getvalue().splitlines())}
    assert list(rows) == [p.stem for p in seeds] and stats.failed == 1
    failed = rows[seed("000").stem]
    assert set(failed) == {"id", "relevant", "alert", "error"} and not failed["relevant"] and not failed["alert"]
    assert failed["error"].startswith("claims: TypeError: ")
    # With 000 lost, 001 is the first report of the story and raises its alert.
    assert rows[seed("001").stem]["alert"] is True and "error" not in rows[seed("001").stem]


def test_a_failed_decision_leaves_the_story_book_as_it_was(tagger, settings):
    replayer = Replayer(tagger, settings)
    first, second = read_articles([seed("000"), seed("001")])
    ((_, _, opened, _),) = list(replayer.verdicts([first]))
    before = replayer.books[ROUTE].state()
    ladder, replayer.policy.rungs = replayer.policy.rungs, LadderThatBreaks()
    ((_, _, verdict, error),) = list(replayer.verdicts([second]))
    assert verdict is None and error == f"decide: RuntimeError: {LADDER_BROKE}"
    assert replayer.books[ROUTE].state() == before, "a failed decide must not leave 001 half in the story"
    replayer.policy.rungs = ladder
    ((_, _, retried, error),) = list(replayer.verdicts([second]))
    # Had the failed attempt stayed in the book, 001 would now be a silent repeat.
    assert error == "" and retried.placement.repeat is False
    assert retried.decision.story == opened.decision.story and retried.decision.relevant


def test_the_error_names_the_stage_of_the_module_that_raised():
    with pytest.raises(binascii.Error) as raised:
        similarity.decode("not base64!")
    assert failure(raised.value, "decide").startswith("stories: Error: ")
    assert failure(ValueError("empty batch"), "tag") == "tag: ValueError: empty batch"
