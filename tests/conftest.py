"""Fixtures on real components: one embedded broker per session, spaCy loaded once,
settings isolated per test (own topics, consumer group and data directory)."""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest

from monitor.runtime.broker import EmbeddedBroker
from monitor.settings import Settings
from monitor.watchlist import load_watchlist
from tests.support.paths import CONFIG, MISSING_SHARED, SHARED
from tests.support.worker import WorkerProcess

_counter = itertools.count()
#: The address guard's allowlist every test that fetches from a loopback server uses.
LOOPBACK_ALLOWLIST = "127.0.0.0/8,::1"


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Tests marked `shared` read ../shared; without it they fail with a clear message (never
    # skip). Every other test runs without it.
    if item.get_closest_marker("shared") and not SHARED.is_dir():
        pytest.fail(MISSING_SHARED, pytrace=False)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory):
    """The real Tansu broker on a free loopback port, for the whole session."""
    log_path = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_path=log_path) as embedded:
        yield embedded


@pytest.fixture(scope="session")
def watchlist():
    return load_watchlist(CONFIG / "watchlist.yaml")


@pytest.fixture(scope="session")
def tagger(watchlist):
    """The production tagger (spaCy + actor ruler + triggers), loaded once per session."""
    from monitor.nlp.pool import make_tagger

    return make_tagger(Settings(), watchlist)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A private copy of config/ that a test may edit (feeds, sinks)."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    return target


@pytest.fixture
def settings(tmp_path: Path, config_dir: Path) -> Settings:
    """Settings without a broker: own data and config directories, metrics not served."""
    return Settings(
        config_dir=config_dir,
        data_dir=tmp_path / "data",
        poller_metrics_port=0,
        worker_metrics_port=0,
        nlp_processes=0,
        # Test servers live on loopback, which the address guard refuses by default.
        fetch_allowlist=LOOPBACK_ALLOWLIST,
    )


@pytest.fixture
def broker_settings(settings: Settings, broker: EmbeddedBroker) -> Settings:
    """Settings on the session broker with topics and consumer group unique to this test."""
    unique = f"t{os.getpid()}x{next(_counter)}"
    return settings.with_overrides(
        broker_url=broker.url, embedded_broker=True, topic_prefix=unique, app_id=unique, nlp_processes=1
    )


@pytest.fixture
def start_worker(broker_settings: Settings, tmp_path: Path):
    """Factory: start ``newsmon worker`` processes on this test's settings; all stopped after."""
    workers: list[WorkerProcess] = []

    def start(settings: Settings | None = None) -> WorkerProcess:
        env = (settings or broker_settings).as_env()
        worker = WorkerProcess(env, tmp_path / f"worker-{len(workers)}.log")
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
