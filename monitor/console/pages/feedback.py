"""POST /feedback: an analyst's judgement to the ``feedback`` topic and the read model.

The CSRF middleware has checked the token before this runs. The judgement is keyed by the
story's route so the detect stage that owns the story reads a mute.
"""

from __future__ import annotations

import uuid

from kafka.errors import KafkaError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from monitor.console import queries
from monitor.console.context import FEEDBACK_WAIT_S, Console, console_of
from monitor.models import FEEDBACK_VERDICTS, Feedback, utcnow

ID_CHARS = 64
NOTE_CHARS = 500


def back_to(target: str) -> str:
    """Where to send the browser after a click: a path on this console, never elsewhere."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


async def post(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    verdict = str(form.get("verdict", ""))
    story_id = str(form.get("story_id", ""))[:ID_CHARS]
    if verdict not in FEEDBACK_VERDICTS or not story_id:
        return PlainTextResponse("feedback needs a verdict and a story", 400)
    item = Feedback(
        id=uuid.uuid4().hex,
        verdict=verdict,
        story_id=story_id,
        alert_id=str(form.get("alert_id", ""))[:ID_CHARS],
        article_id=str(form.get("article_id", ""))[:ID_CHARS],
        route=await run_in_threadpool(_route, console, story_id),
        note=str(form.get("note", ""))[:NOTE_CHARS],
        created_at=utcnow(),
    )
    try:
        await run_in_threadpool(_record, console, item)
    except KafkaError as exc:
        return PlainTextResponse(f"feedback not stored: the broker did not take it ({type(exc).__name__}); try again", 503)
    return RedirectResponse(back_to(str(form.get("next", "/"))), 303)


def _route(console: Console, story_id: str) -> str:
    found = queries.story(console.model, story_id)
    if not found or not found["articles"]:
        return ""
    return console.route_for(set(found["articles"][0].get("actors", [])))


def _record(console: Console, item: Feedback) -> None:
    """To the topic first (the record of truth, which the detect stage reads), then here."""
    key = (item.route or item.story_id).encode()
    console.producer().send(console.names.feedback, key=key, value=item.dumps(serializer="json")).get(timeout=2 * FEEDBACK_WAIT_S)
    console.model.store(feedback=[item])
