"""The ``newsmon`` command: run, worker, poll, console, replay, check-config, topics, broker,
feedback, dlq."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

import click

from monitor.configfile import ConfigError
from monitor.settings import Settings

log = logging.getLogger("newsmon")


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level, format="[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s")
    # kafka-python narrates every connection at INFO; its warnings are what an operator needs.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, logging.getLevelName(level)))


@click.group()
@click.option("--log-level", default="INFO", show_default=True, help="Python logging level.")
@click.pass_context
def cli(ctx: click.Context, log_level: str) -> None:
    """newsmon: watch the news for new Russia–China military aid and sanctions developments."""
    ctx.obj = {"log_level": log_level.upper()}


def _settings() -> Settings:
    return Settings()


def _fail_config(exc: ConfigError) -> None:
    for problem in exc.problems:
        click.echo(problem, err=True)
    sys.exit(2)


@cli.command()
@click.option("--verbose", "-v", is_flag=True, help="Show every log line on the terminal too (MONITOR_LOG_LEVEL does the same).")
@click.pass_context
def run(ctx: click.Context, verbose: bool) -> None:
    """Start everything: the embedded broker (unless MONITOR_BROKER_URL is set), topics, worker, poller.

    The terminal shows a summary, a status line every few minutes and the alerts; the logs
    go to data/logs/newsmon.log.
    """
    from monitor.runtime.supervise import run_daemon
    from monitor.runtime.terminal import setup_daemon_logging

    settings = _settings()
    level = (settings.log_level or ctx.obj["log_level"]).upper()
    path = setup_daemon_logging(settings, level, verbose=verbose or bool(settings.log_level))
    sys.exit(run_daemon(settings, log_level=level, verbose=verbose or bool(settings.log_level), log_path=path))


@cli.command()
@click.pass_context
def console(ctx: click.Context) -> None:
    """Serve the analyst console (alerts, stories, activity, health, feedback) on MONITOR_CONSOLE_HOST:PORT."""
    from monitor.console.serve import ConsoleRefused, run_console

    setup_logging(ctx.obj["log_level"])
    try:
        sys.exit(run_console(_settings()))
    except ConsoleRefused as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@cli.group()
def feedback() -> None:
    """Analysts' judgements from the console."""


@feedback.command("export")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="CSV file (default: stdout).")
def feedback_export(output) -> None:
    """Write the judgements held by the console's read model in the labels format (eval/labels.csv)."""
    from monitor.console.export import write_labels
    from monitor.console.serve import READ_MODEL
    from monitor.console.store import ReadModel

    model = ReadModel(_settings().data_dir / READ_MODEL)
    try:
        count = write_labels(model, output)
    finally:
        model.close()
    click.echo(f"{count} judgement(s)", err=True)


@cli.command()
@click.option("--quiet", is_flag=True, help="No start-up banner or progress on stdout (newsmon run passes it).")
@click.pass_context
def worker(ctx: click.Context, quiet: bool) -> None:
    """Run the Faust worker (tag → detect → deliver) against MONITOR_BROKER_URL."""
    from agents.app import create_app
    from agents.worker import NewsmonWorker
    from monitor.runtime.exposition import serve

    settings = _settings()
    try:
        app, wctx = create_app(settings)
    except ConfigError as exc:
        _fail_config(exc)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    wctx.metrics.up_since.labels("worker").set_to_current_time()
    serve(wctx.metrics, settings.worker_metrics_port, settings.metrics_host)
    NewsmonWorker(app, wctx, loglevel=ctx.obj["log_level"].lower(), quiet=quiet).execute_from_commandline()


@cli.command()
@click.option("--once", is_flag=True, help="Poll every feed once and exit.")
@click.pass_context
def poll(ctx: click.Context, once: bool) -> None:
    """Run the feed poller, producing new articles to the articles topic."""
    from monitor.runtime.poller import run_poller

    setup_logging(ctx.obj["log_level"])
    try:
        sys.exit(asyncio.run(run_poller(_settings(), once=once)))
    except ConfigError as exc:
        _fail_config(exc)


def _progress_bar(what: str):
    """A progress bar on stderr when it is a terminal; nothing at all when piped (disable=None)."""
    from tqdm import tqdm

    return tqdm(desc=what, unit=" articles", file=sys.stderr, disable=None, leave=False, dynamic_ncols=True)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", help="Where to write the JSON lines.")
@click.pass_context
def replay(ctx: click.Context, files: tuple[Path, ...], output) -> None:
    """Run tag → detect in-process over article files; one JSON object per article, in order.

    Reads .jsonl and .json (objects with id, text or content, title, published, source, url),
    .csv with a header (a text or content column), .txt (one article) and RSS/Atom files.
    """
    from monitor.nlp.pool import make_tagger
    from monitor.offline.readers import UnreadableInput
    from monitor.offline.replay import Replayer
    from monitor.offline.replay import replay as run_replay
    from monitor.watchlist import load_watchlist

    setup_logging("WARNING" if ctx.obj["log_level"] == "INFO" else ctx.obj["log_level"])
    settings = _settings()
    try:
        watchlist = load_watchlist(settings.config_file("watchlist.yaml"))
    except ConfigError as exc:
        _fail_config(exc)
    replayer = Replayer(make_tagger(settings, watchlist), settings)
    with _progress_bar("replay") as bar:
        try:
            stats = run_replay(list(files), replayer, output, progress=bar.update)
        except UnreadableInput as exc:
            raise click.UsageError(str(exc)) from exc
    click.echo(
        f"replayed {stats.articles} articles in {stats.seconds:.1f} s ({stats.per_second:.1f}/s): "
        f"{stats.relevant} relevant, {stats.alerts} alerts, {stats.failed} failed",
        err=True,
    )


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

    from monitor.offline.evaluate import format_report, run

    setup_logging("WARNING")
    settings = _settings()
    started = time.perf_counter()
    replayer = _replayer(settings)
    with _progress_bar("eval") as bar:
        report = run(replayer, labels, claims, _shared_dir(shared), adjudications=adjudications, progress=lambda n: bar.update())
    click.echo(format_report(report, splits or ("dev", "heldout", "all")))
    click.echo(f"({report.articles} articles in {time.perf_counter() - started:.0f} s)", err=True)
    if json_out is not None:
        json.dump(dataclasses.asdict(report), json_out, indent=2)


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


@cli.command("check-config")
def check_config() -> None:
    """Validate config/*.yaml and print every problem with its file and line."""
    from monitor.ingest.feedlist import load_feeds
    from monitor.sinks import load_sinks
    from monitor.watchlist import load_watchlist

    settings = _settings()
    problems: list[str] = []
    for name, loader in (("watchlist.yaml", load_watchlist), ("feeds.yaml", load_feeds), ("sinks.yaml", load_sinks)):
        try:
            loader(settings.config_file(name))
        except ConfigError as exc:
            problems += exc.problems
    for problem in problems:
        click.echo(problem)
    if problems:
        sys.exit(1)
    click.echo(f"config OK: {settings.config_dir}")
    if settings.first_pass:
        from monitor.nlp.cascade import explain

        for line in explain(load_watchlist(settings.config_file("watchlist.yaml"))):
            click.echo(line)


@cli.command()
def topics() -> None:
    """Create newsmon's topics on MONITOR_BROKER_URL (idempotent)."""
    from monitor.runtime.kafka_topics import ensure_topics

    setup_logging()
    settings = _settings()
    if not settings.bootstrap_servers:
        raise click.UsageError("set MONITOR_BROKER_URL")
    created = ensure_topics(settings)
    click.echo(f"created: {', '.join(created)}" if created else "all topics exist")


@cli.command()
def broker() -> None:
    """Run only the embedded broker in the foreground and print its address."""
    from monitor.runtime.broker import EmbeddedBroker

    setup_logging()
    with EmbeddedBroker() as embedded:
        click.echo(f"embedded broker on {embedded.url}; export MONITOR_BROKER_URL={embedded.url}")
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        try:
            while not stop["now"] and embedded.process and embedded.process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


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


def main() -> None:
    cli(prog_name="newsmon")


if __name__ == "__main__":
    main()
