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
    if not settings.bootstrap_servers:
        from monitor.runtime.rotation import describe_budget

        click.echo(f"newsmon run's embedded broker: {describe_budget(settings)}")
    if settings.first_pass:
        from monitor.nlp.cascade import explain

        for line in explain(load_watchlist(settings.config_file("watchlist.yaml")), focus=settings.focus_lines):
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


# Registers eval, train-relevance and dlq on the group; here, so the names it uses exist.
from monitor import cli_tools  # noqa: E402, F401


def main() -> None:
    cli(prog_name="newsmon")


if __name__ == "__main__":
    main()
