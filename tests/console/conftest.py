"""Console fixtures: a real SQLite read model in the test's data directory, and clients."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from monitor.console.app import create_app
from monitor.console.store import ReadModel
from tests.support.console import near_miss, story_records


@pytest.fixture
def model(settings):
    model = ReadModel(settings.data_dir / "console.sqlite3")
    yield model
    model.close()


@pytest.fixture
def filled(model):
    alerts, decisions = story_records()
    model.store(alerts, [*decisions, near_miss()])
    return model


@pytest.fixture
def client(settings, filled):
    with TestClient(create_app(settings, filled), base_url="http://127.0.0.1:8090") as client:
        yield client


def csrf_of(client: TestClient) -> str:
    """The CSRF token the console gave this client (its first GET sets the cookie)."""
    client.get("/login")
    return client.cookies["newsmon_csrf"]
