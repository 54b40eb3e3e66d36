"""``newsmon`` commands for measuring and operating: eval, train-relevance, dlq.

They hang on the group of ``monitor.cli``, which imports this module before it runs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from monitor.cli import _fail_config, _progress_bar, _settings, cli, setup_logging
from monitor.configfile import ConfigError
from monitor.settings import Settings

_shared_option = click.option(
    "--shared",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Directory with corpus/ and seeds/ (default: $NEWSMON_SHARED_DIR or ../shared).",
)
_labels_option = click.option(
    "--labels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("eval/labels.csv"),
    show_default=True,
    help="Our labels (beside the shared set corpus/labels/russia_china_devset.csv).",
)
_adjudications_option = click.option(
    "--adjudications",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("eval/adjudications.csv"),
    show_default=True,
    help="Where we believe a shared label is wrong: our label and why.",
)


def _shared_dir(shared: Path | None) -> Path:
    import os

    return shared or Path(os.environ.get("NEWSMON_SHARED_DIR", "../shared"))


def _replayer(settings: Settings, progress: bool = True):
    from monitor.nlp.pool import make_tagger
    from monitor.offline.replay import Replayer
    from monitor.watchlist import load_watchlist

    try:
        watchlist = load_watchlist(settings.config_file("watchlist.yaml"))
    except ConfigError as exc:
        _fail_config(exc)
    return Replayer(make_tagger(settings, watchlist), settings)


@cli.command("eval")
@_labels_option
@_adjudications_option
@click.option(
    "--claims",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=Path("eval/claims.csv"),
    show_default=True,
    help="Hand-checked claims (file, id, sentence hash, subject, action, object).",
)
@_shared_option
@click.option(
    "--split",
    "splits",
    type=click.Choice(["dev", "heldout", "all"]),
    multiple=True,
    help="Print only these splits (default: all three). The held-out split is for the final figures only.",
)
@click.option("--json", "json_out", type=click.File("w", encoding="utf-8"), default=None, help="Also write the figures as JSON.")
@click.option(
    "--feedback",
    "feedback_days",
    type=click.IntRange(min=1),
    default=None,
    help="Instead: precision of the alerts analysts judged on the console over the last DAYS.",
)
def evaluate(
    labels: Path, adjudications: Path, claims: Path, shared: Path | None, splits, json_out, feedback_days: int | None
) -> None:
    """Score relevance, topics, stories and claims on the labelled set, beside the keyword baseline."""
    import dataclasses
    import json

    if feedback_days is not None:
        from monitor.console.precision import format_precision, measure
        from monitor.console.serve import READ_MODEL
        from monitor.console.store import ReadModel

        model = ReadModel(_settings().data_dir / READ_MODEL)
        try:
            click.echo(format_precision(measure(model, feedback_days)))
        finally:
            model.close()
        return

    from monitor.offline.claimcheck import READINGS
    from monitor.offline.evaluate import format_report, only_splits, run

    setup_logging("WARNING")
    settings = _settings()
    started = time.perf_counter()
    replayer = _replayer(settings)
    with _progress_bar("eval") as bar:
        report = run(
            replayer,
            labels,
            claims,
            _shared_dir(shared),
            adjudications=adjudications,
            readings=READINGS,
            progress=lambda n: bar.update(),
        )
    click.echo(format_report(report, splits or ("dev", "heldout", "all")))
    click.echo(f"({report.articles} articles in {time.perf_counter() - started:.0f} s)", err=True)
    if json_out is not None:
        json.dump(dataclasses.asdict(only_splits(report, splits) if splits else report), json_out, indent=2)


@cli.command("train-relevance")
@_labels_option
@_adjudications_option
@_shared_option
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("monitor/relevance/weights.json"),
    show_default=True,
    help="Where to write the learned weights.",
)
def train_relevance(labels: Path, adjudications: Path, shared: Path | None, output: Path) -> None:
    """Learn the relevance score's weights from the development split of the labelled set."""
    from monitor.offline.evaluate import labelled_articles
    from monitor.offline.labels import load_labels
    from monitor.offline.train import train, write_weights

    setup_logging("WARNING")
    settings = _settings()
    replayer = _replayer(settings)
    gold = load_labels(_shared_dir(shared), labels, adjudications)
    weights, about = train(replayer.tagger.tag, labelled_articles(gold, _shared_dir(shared)), gold, replayer.policy.judge)
    write_weights(output, weights, about)
    click.echo(f"wrote {output}: {about}")


@cli.group()
def dlq() -> None:
    """Inspect and resend dead letters (MONITOR_BROKER_URL)."""


def _dlq_settings() -> Settings:
    settings = _settings()
    if not settings.bootstrap_servers:
        raise click.UsageError("set MONITOR_BROKER_URL")
    return settings


_dlq_filters = [
    click.option("--stage", help="Only letters of this stage (tag, detect, deliver)."),
    click.option("--reason", help="Only letters with this reason (rejected, retries_exhausted, undecodable…)."),
    click.option("--sink", help="Only failed deliveries to this sink."),
    click.option("--ref", "refs", multiple=True, help="Only the letter at PARTITION:OFFSET (repeatable)."),
]


def _with_filters(command):
    for option in reversed(_dlq_filters):
        command = option(command)
    return command


@dlq.command("list")
@_with_filters
@click.option("--json", "as_json", is_flag=True, help="One JSON object per letter.")
def dlq_list(stage, reason, sink, refs, as_json) -> None:
    """List dead letters: where, when, which stage and sink, why."""
    import json

    from monitor.sinks.redrive import describe, line, read_letters, select

    setup_logging("WARNING")
    letters = select(read_letters(_dlq_settings()), stage=stage, reason=reason, sink=sink, refs=refs)
    for letter in letters:
        click.echo(json.dumps(describe(letter), ensure_ascii=False) if as_json else line(letter))
    click.echo(f"{len(letters)} dead letter(s)", err=True)


def _resend(stage, reason, sink, refs, everything, dry_run) -> None:
    from monitor.sinks import load_sinks
    from monitor.sinks.redrive import line, read_letters, resend, select

    setup_logging("WARNING")
    if not (stage or reason or sink or refs or everything):
        raise click.UsageError("choose letters with --stage/--reason/--sink/--ref, or pass --all")
    settings = _dlq_settings()
    letters = select(read_letters(settings), stage=stage, reason=reason, sink=sink, refs=refs)
    if dry_run:
        for letter in letters:
            click.echo(f"would resend {line(letter)}")
        return
    try:
        digest_sinks = {s.name for s in load_sinks(settings.config_file("sinks.yaml"), settings.data_dir) if s.digest}
    except ConfigError as exc:
        _fail_config(exc)
    failed = 0
    for letter, problem in resend(settings, letters, digest_sinks):
        if problem:
            failed += 1
            click.echo(f"cannot resend {letter.ref}: {problem}", err=True)
        else:
            click.echo(f"resent {line(letter)}")
    click.echo(f"{len(letters) - failed} resent, {failed} not", err=True)
    if failed:
        sys.exit(1)


def _resend_command(name: str, *, hidden: bool = False, note: str = ""):
    @_with_filters
    @click.option("--all", "everything", is_flag=True, help="Resend every letter (needed when no filter is given).")
    @click.option("--dry-run", is_flag=True, help="Show what would be resent.")
    def command(stage, reason, sink, refs, everything, dry_run) -> None:
        if note:
            click.echo(note, err=True)
        _resend(stage, reason, sink, refs, everything, dry_run)

    command.__doc__ = "Resend dead letters: failed deliveries to their sink, other letters to their topic."
    return dlq.command(name, hidden=hidden)(command)


dlq_resend = _resend_command("resend")
# The old name, kept so scripts keep working; "replay" now means only `newsmon replay`.
dlq_replay = _resend_command("replay", hidden=True, note="`newsmon dlq replay` is now `newsmon dlq resend`")
