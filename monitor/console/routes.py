"""Every URL of the console, in one list; one handler module per page or action."""

from __future__ import annotations

from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from monitor.console.context import HERE
from monitor.console.pages import activity, alerts, events, feedback, health, login, precision, story

ROUTES = [
    Route("/", alerts.page, methods=["GET"], name="alerts"),
    Route("/events", events.stream, methods=["GET"], name="events"),
    Route("/story/{story_id}", story.page, methods=["GET"], name="story"),
    Route("/activity", activity.page, methods=["GET"], name="activity"),
    Route("/precision", precision.page, methods=["GET"], name="precision"),
    Route("/health", health.page, methods=["GET"], name="health"),
    Route("/healthz", health.probe, methods=["GET"], name="healthz"),
    Route("/feedback", feedback.post, methods=["POST"], name="feedback"),
    Route("/login", login.page, methods=["GET"], name="login"),
    Route("/login", login.post, methods=["POST"], name="login_post"),
    # Only the files shipped in the package's static folder; no path from a request reaches elsewhere.
    Mount("/static", StaticFiles(directory=HERE / "static", follow_symlink=False), name="static"),
]
