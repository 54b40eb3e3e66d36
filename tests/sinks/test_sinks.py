"""Sinks: the registry builds them from sinks.yaml; console and JSONL deliver readable alerts."""

import asyncio
import io
import json
from datetime import UTC, datetime

import pytest

from monitor.configfile import ConfigError
from monitor.models import Alert, Evidence
from monitor.sinks import SINK_TYPES, Sink, load_sinks, register
from monitor.sinks.base import SinkConfig
from monitor.sinks.console import ConsoleSink, render
from monitor.sinks.jsonl import JsonlSink


def sample_alert() -> Alert:
    return Alert(
        id="a1",
        story_id="s1",
        kind="new",
        headline="Russia asks China for drones",
        topics=["military_aid"],
        actors=["CHN", "RUS"],
        rule="pair-sentence-trigger",
        evidence=[Evidence(sentence="Russia asked China for drones.", index=0, actors=["CHN", "RUS"], topics=["military_aid"])],
        source="Wire",
        url="https://e.org/1",
        first_seen=datetime(2022, 3, 14, tzinfo=UTC),
    )


def test_console_block_has_headline_evidence_source_and_link():
    out = io.StringIO()
    sink = ConsoleSink(SinkConfig(type="console"), stream=out)
    asyncio.run(sink.send(sample_alert()))
    text = out.getvalue()
    for part in (
        "NEW STORY",
        "Russia asks China for drones",
        "» Russia asked China for drones.",
        "source: Wire",
        "https://e.org/1",
    ):
        assert part in text
    assert text == render(sample_alert()) + "\n"


def test_console_prints_each_evidence_sentence_once_and_never_the_title_again():
    """A feed's text often opens with its title and repeats its lede as a paragraph."""
    repeated = [
        Evidence(sentence=sentence, index=index, actors=["CHN", "RUS"])
        for index, sentence in enumerate(
            [
                "Russia asks China for drones.",  # the title again, as the text's first sentence
                "Moscow asked Beijing for drones, officials said.",
                "Moscow  asked Beijing for drones, officials said.",  # the lede again
                "China has not answered.",
            ]
        )
    ]
    alert = sample_alert()
    alert.evidence = repeated
    text = render(alert)
    assert text.count("Russia asks China for drones") == 1
    assert text.count("Moscow asked Beijing") == 1
    assert [line.strip() for line in text.splitlines() if "»" in line] == [
        "» Moscow asked Beijing for drones, officials said.",
        "» China has not answered.",
    ]


def test_jsonl_appends_one_plain_json_object_per_alert(tmp_path):
    path = tmp_path / "out" / "alerts.jsonl"
    sink = JsonlSink(JsonlSink.config_model(type="jsonl", path=path))

    async def go():
        await sink.start()
        await sink.send(sample_alert())
        await sink.send(sample_alert())

    asyncio.run(go())
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == 2
    assert lines[0]["id"] == "a1" and lines[0]["evidence"][0]["sentence"] == "Russia asked China for drones."
    assert "__faust" not in json.dumps(lines[0])


def test_relative_jsonl_paths_are_inside_the_data_directory(tmp_path):
    sink = JsonlSink(JsonlSink.config_model(type="jsonl", path="alerts.jsonl"), data_dir=tmp_path / "data")
    asyncio.run(sink.start())
    asyncio.run(sink.send(sample_alert()))
    assert (tmp_path / "data" / "alerts.jsonl").read_text().count("\n") == 1


def test_sinks_yaml_builds_registered_types_with_their_options(tmp_path):
    path = tmp_path / "sinks.yaml"
    path.write_text(f"sinks:\n  - type: console\n  - type: jsonl\n    name: audit\n    path: {tmp_path}/a.jsonl\n")
    sinks = load_sinks(path)
    assert [(s.type_name, s.name) for s in sinks] == [("console", "console"), ("jsonl", "audit")]


def test_sinks_yaml_errors_name_line_and_option(tmp_path):
    path = tmp_path / "sinks.yaml"
    path.write_text("sinks:\n  - type: jsonl\n    path: x.jsonl\n    colour: red\n  - type: console\n  - type: console\n")
    with pytest.raises(ConfigError) as error:
        load_sinks(path)
    assert f"{path}:4: sinks.0.colour: Extra inputs are not permitted" in error.value.problems
    assert any("two sinks are named 'console'" in p for p in error.value.problems)


def test_a_new_sink_type_is_one_registered_class():
    @register("test-upper")
    class UpperSink(Sink):
        async def send(self, alert):
            self.last = alert.headline.upper()

    try:
        sink = SINK_TYPES["test-upper"](SinkConfig(type="test-upper"))
        asyncio.run(sink.send(sample_alert()))
        assert sink.last == "RUSSIA ASKS CHINA FOR DRONES"
    finally:
        del SINK_TYPES["test-upper"]


def test_sinks_yaml_builds_slack_and_webhook_sinks_and_names_bad_lines(tmp_path, monkeypatch):
    """Slack's URL may come from the environment; a bad webhook secret is reported with its line."""
    monkeypatch.setenv("TEST_SLACK_URL", "https://hooks.slack.com/services/T/B/x")
    path = tmp_path / "sinks.yaml"
    path.write_text(
        "sinks:\n"
        "  - type: slack\n    webhook_url_env: TEST_SLACK_URL\n    digest_minutes: 15\n"
        "  - type: webhook\n    url: https://example.org/hook\n    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
    )
    slack, hook = load_sinks(path)
    assert (slack.type_name, slack.digest, hook.type_name, hook.digest) == ("slack", True, "webhook", False)
    path.write_text("sinks:\n  - type: webhook\n    url: https://example.org/hook\n    secret: hunter2\n")
    with pytest.raises(ConfigError) as error:
        load_sinks(path)
    assert any(p.startswith(f"{path}:2:") and "whsec_" in p for p in error.value.problems), error.value.problems
