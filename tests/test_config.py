"""Config files: the shipped ones load; a broken one is reported with file, line and problem."""

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.configfile import ConfigError
from monitor.ingest.feedlist import load_feeds
from monitor.watchlist import load_watchlist
from tests.support.paths import CONFIG


def test_shipped_config_is_valid():
    watchlist = load_watchlist(CONFIG / "watchlist.yaml")
    assert {"RUS", "CHN", "USA"} <= set(watchlist.actors)
    assert ("RUS", "CHN") in watchlist.watch_pairs
    assert {"military_aid", "sanctions"} <= set(watchlist.topics)
    assert load_feeds(CONFIG / "feeds.yaml").feeds


def test_watchlist_errors_name_the_line_and_the_problem(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text(
        "actors:\n"
        "  RUS:\n"
        "    name: Russia\n"
        "    aliases: [Russia]\n"
        "  CHN:\n"
        "    name: China\n"
        "    aliases: not-a-list\n"
        "watch_pairs: [[RUS, CHN]]\n"
        "topics:\n"
        "  sanctions: {label: S, triggers: [sanction]}\n"
    )
    with pytest.raises(ConfigError) as error:
        load_watchlist(path)
    assert error.value.problems == [f"{path}:7: actors.CHN.aliases: Input should be a valid list"]


def test_unknown_actor_in_a_watch_pair_is_reported(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text(
        "actors:\n  RUS: {name: Russia, aliases: [Russia]}\n"
        "watch_pairs: [[RUS, CHN]]\n"
        "topics:\n  sanctions: {label: S, triggers: [sanction]}\n"
    )
    with pytest.raises(ConfigError, match="unknown actor 'CHN'"):
        load_watchlist(path)


def test_one_phrase_for_two_actors_is_reported(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text(
        "actors:\n  RUS: {name: Russia, aliases: [Russia]}\n  CHN: {name: China, aliases: [China, Russia]}\n"
        "watch_pairs: [[RUS, CHN]]\ntopics:\n  sanctions: {label: S, triggers: [sanction]}\n"
    )
    with pytest.raises(ConfigError, match="refers to both RUS and CHN"):
        load_watchlist(path)


def test_invalid_yaml_names_its_line(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - name: a\n    url: [unclosed\n")
    with pytest.raises(ConfigError, match=r"feeds.yaml:\d+: not valid YAML"):
        load_feeds(path)


def test_feed_names_must_be_unique_and_urls_http(tmp_path):
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n  - {name: a, url: 'https://e.org/1'}\n  - {name: a, url: 'ftp://e.org/2'}\n")
    with pytest.raises(ConfigError) as error:
        load_feeds(path)
    assert f"{path}:3: feeds.1.url: Value error, feed url must start with http:// or https://" in error.value.problems


def test_check_config_command_prints_problems_and_fails(tmp_path, monkeypatch, config_dir):
    (config_dir / "sinks.yaml").write_text("sinks:\n  - type: carrier-pigeon\n")
    monkeypatch.setenv("MONITOR_CONFIG_DIR", str(config_dir))
    result = CliRunner().invoke(cli, ["check-config"])
    assert result.exit_code == 1
    assert f"{config_dir / 'sinks.yaml'}:2: sinks.0.type: unknown sink type 'carrier-pigeon'" in result.output


def test_check_config_command_accepts_the_shipped_config(monkeypatch):
    monkeypatch.setenv("MONITOR_CONFIG_DIR", str(CONFIG))
    result = CliRunner().invoke(cli, ["check-config"])
    assert result.exit_code == 0, result.output
    assert "config OK" in result.output
    # It says what the first pass lets through and what the focus parses of it.
    assert "first pass: an article goes through spaCy" in result.output
    assert "focus: of an article that goes through" in result.output


def test_the_shipped_watchlist_has_actions_with_cameo_codes_and_rules(watchlist):
    assert watchlist.actions["impose_sanctions"].cameo_for("sanctions") == "163"
    assert watchlist.actions["provide"].cameo_for("military_aid") == "072"
    assert watchlist.actions["request"].cameo_for("military_aid") == "0232"
    assert watchlist.reference_problems() == []
    # Every shipped rule alerts: firm rules take asserted and attributed claims, and hedges,
    # denials and conditions go to the low-severity rules (only `alert: false` would silence one).
    assert watchlist.rules and all(rule.alert for rule in watchlist.rules)
    low = {rule.name: set(rule.modalities) for rule in watchlist.rules if rule.severity == "low"}
    assert low == {
        "link-reported-disputed-or-hypothetical": {"hedged", "denied", "conditional"},
        "third-party-reported-or-hypothetical": {"hedged", "denied", "conditional"},
    }
    firm = [rule for rule in watchlist.rules if rule.severity != "low"]
    assert firm and all(set(rule.modalities) == {"asserted", "attributed"} for rule in firm)


def test_a_rule_naming_an_unknown_actor_action_or_modality_is_reported_with_its_line(tmp_path):
    path = tmp_path / "watchlist.yaml"
    path.write_text(
        "actors:\n  RUS: {name: Russia, aliases: [Russia]}\n  CHN: {name: China, aliases: [China]}\n"
        "watch_pairs: [[RUS, CHN]]\n"
        "topics:\n  sanctions: {label: S, triggers: [sanction]}\n"
        "actions:\n  impose_sanctions: {lemmas: [impose], topics: [sanctions]}\n"
        "rules:\n"
        "  - name: ok\n    actors: [RUS, CHN]\n    topics: [sanctions]\n    modalities: [asserted]\n"
        "  - name: bad\n    actors: [USA, CHN]\n    topics: [sanctions]\n    actions: [bribe]\n    modalities: [asserted]\n"
    )
    with pytest.raises(ConfigError) as error:
        load_watchlist(path)
    assert error.value.problems == [
        f"{path}:15: rules.1.actors: unknown actor 'USA'",
        f"{path}:17: rules.1.actions: unknown action 'bribe'",
    ]
    path.write_text(path.read_text().replace("modalities: [asserted]\n  - name: bad", "modalities: [rumoured]\n  - name: bad"))
    with pytest.raises(ConfigError) as error:
        load_watchlist(path)
    assert any(
        p.startswith(f"{path}:13: rules.0.modalities") and "unknown modality 'rumoured'" in p for p in error.value.problems
    )


def test_check_config_prints_rule_problems_with_their_line(config_dir, monkeypatch):
    watchlist = config_dir / "watchlist.yaml"
    watchlist.write_text(
        watchlist.read_text().replace(
            "about: RUS\n    topics: [sanctions, military_aid]", "about: XXX\n    topics: [sanctions, military_aid]", 1
        )
    )
    monkeypatch.setenv("MONITOR_CONFIG_DIR", str(config_dir))
    result = CliRunner().invoke(cli, ["check-config"])
    assert result.exit_code == 1
    assert "watchlist.yaml:" in result.output and "about: unknown actor 'XXX'" in result.output
