"""Slack sink against a real loopback Slack-like receiver that enforces Slack's limits."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from monitor.models import Alert, Evidence
from monitor.runtime.metrics import Metrics
from monitor.sinks.base import DeliveryError
from monitor.sinks.deliverer import Deliverer
from monitor.sinks.slack import SlackConfig, SlackSink
from monitor.sinks.slack_message import (
    HEADER_CHARS,
    alert_message,
    digest_messages,
    limit_problems,
    texts,
    units,
)
from tests.support.alerts import make_alerts
from tests.support.receivers import SlackReceiver

LOOPBACK = ("127.0.0.0/8",)
SECRET_PATH = "/services/T0000/B0000/sEcReTtOkEn"


def slack_sink(url: str, **options) -> SlackSink:
    options.setdefault("allow_networks", LOOPBACK)
    return SlackSink(SlackConfig(type="slack", name="slack", webhook_url=url, **options))


async def send_all(sink, alerts) -> list[DeliveryError]:
    errors = []
    try:
        for alert in alerts:
            try:
                await sink.send(alert)
            except DeliveryError as exc:
                errors.append(exc)
    finally:
        await sink.close()
    return errors


def burst(count: int, rate: float) -> tuple[SlackReceiver, list[DeliveryError], list[Alert]]:
    alerts = make_alerts(count)
    with SlackReceiver(min_interval_s=1.0 / rate) as slack:
        errors = asyncio.run(send_all(slack_sink(slack.url + SECRET_PATH, rate_per_s=rate), alerts))
    return slack, errors, alerts


def assert_paced(slack: SlackReceiver, alerts: list[Alert], rate: float) -> float:
    accepted = slack.accepted()
    assert slack.alert_ids() == [a.id for a in alerts], "every alert, once, in order"
    assert slack.too_fast == 0 and slack.early == 0 and not slack.invalid
    gaps = [b.at - a.at for a, b in zip(accepted, accepted[1:])]
    assert min(gaps) >= 1.0 / rate - 0.02, f"closest two messages {min(gaps):.3f} s apart"
    return (len(accepted) - 1) / (accepted[-1].at - accepted[0].at)


@pytest.mark.timeout(300)
def test_a_burst_of_200_alerts_reaches_slack_at_one_per_second_with_none_lost():
    """The real limit: 200 alerts at once take ≥ 199 s; Slack never has to say 429."""
    slack, errors, alerts = burst(200, rate=1.0)
    assert not errors
    observed = assert_paced(slack, alerts, rate=1.0)
    print(f"200 alerts at 1/s: observed {observed:.4f} messages/s")
    assert observed <= 1.0


def test_a_request_that_reaches_slack_late_does_not_crowd_the_next_one():
    """Slack counts the gap between requests it receives: the first is held up 0.6 s on
    the way, so the next must wait a whole second after its answer, not after its send."""
    alerts = make_alerts(3)
    with SlackReceiver(min_interval_s=1.0) as slack:
        slack.stalls = [0.6]
        errors = asyncio.run(send_all(slack_sink(slack.url + SECRET_PATH, rate_per_s=1.0), alerts))
    assert not errors
    assert_paced(slack, alerts, rate=1.0)


def test_the_limiter_holds_a_faster_configured_rate():
    """Same limiter at 20/s (a test knob): 100 alerts, none lost, none early."""
    slack, errors, alerts = burst(100, rate=20.0)
    assert not errors
    assert assert_paced(slack, alerts, rate=20.0) <= 20.0


def test_no_request_is_sent_before_retry_after_expires():
    """A 429 with Retry-After: 2 is waited out in place; the next request comes ≥ 2 s later."""
    alerts = make_alerts(3)
    with SlackReceiver(min_interval_s=0.05, script=[(429, "rate_limited", {"Retry-After": "2"})]) as slack:
        errors = asyncio.run(send_all(slack_sink(slack.url + SECRET_PATH, rate_per_s=20), alerts))
    assert not errors and slack.early == 0
    assert slack.alert_ids() == [a.id for a in alerts]
    assert slack.requests[1].at - slack.requests[0].at >= 1.98


def test_a_long_retry_after_goes_back_to_the_scheduler_and_nothing_is_sent_meanwhile():
    alerts = make_alerts(2)
    with SlackReceiver(script=[(429, "rate_limited", {"Retry-After": "60"})]) as slack:
        errors = asyncio.run(send_all(slack_sink(slack.url + SECRET_PATH), alerts))
    assert len(slack.requests) == 1
    assert [e.retryable for e in errors] == [True, True]
    assert errors[0].retry_after_s == 60 and 55 < errors[1].retry_after_s <= 60


def test_a_lower_case_retry_after_header_is_honoured_too():
    """HTTP header names are case-insensitive; h11, uvicorn and Envoy send "retry-after"."""
    alerts = make_alerts(2)
    with SlackReceiver(min_interval_s=0.05, script=[(429, "rate_limited", {"retry-after": "2"})]) as slack:
        errors = asyncio.run(send_all(slack_sink(slack.url + SECRET_PATH, rate_per_s=20), alerts))
    assert not errors and slack.early == 0
    assert slack.requests[1].at - slack.requests[0].at >= 1.98


def test_a_retry_after_of_years_is_honoured_for_an_hour_at_most():
    with SlackReceiver(script=[(429, "rate_limited", {"Retry-After": "999999999"})]) as slack:
        errors = asyncio.run(send_all(slack_sink(slack.url + SECRET_PATH), make_alerts(1)))
    assert [e.retry_after_s for e in errors] == [3600.0], "then the alert is tried again and the try counts"


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (400, "invalid_blocks"),
        (403, "action_prohibited"),
        (404, "no_service"),
        (410, "channel_is_archived"),
    ],
)
def test_slack_refusals_stop_retrying_and_carry_slacks_error_text(status, text):
    letters: list = []
    alert = make_alerts(1)[0]
    with SlackReceiver(script=[(status, text, {})]) as slack:
        sink = slack_sink(slack.url + SECRET_PATH, retry_delays_s=(0.1,))

        async def dead_letter(*args):
            letters.append(args)

        async def schedule(task):
            raise AssertionError("a refusal is never retried")

        deliverer = Deliverer(
            [sink], {}, {}, Metrics(CollectorRegistry()), partitions=1, schedule=schedule, dead_letter=dead_letter
        )

        async def go():
            await deliverer.on_alert(alert, sink, 0)
            await sink.close()

        asyncio.run(go())
    ((reason, error, _alert, sink_name, attempts, _p),) = letters
    assert (reason, sink_name, attempts) == ("rejected", "slack", 1)
    assert f"{status} {text}" in error
    assert len(slack.requests) == 1


def test_a_server_error_is_retryable():
    with SlackReceiver(script=[(500, "internal_error", {})]) as slack:
        errors = asyncio.run(send_all(slack_sink(slack.url + SECRET_PATH), make_alerts(1)))
    assert errors[0].retryable


def test_the_webhook_url_is_a_secret_never_shown():
    """Printing the config masks it; a connection error names the host, not the secret path."""
    config = SlackConfig(type="slack", webhook_url="http://127.0.0.1:9" + SECRET_PATH, allow_networks=LOOPBACK)
    assert "sEcReTtOkEn" not in repr(config) and "sEcReTtOkEn" not in str(config.model_dump())
    errors = asyncio.run(send_all(SlackSink(config), make_alerts(1)))
    assert errors and "127.0.0.1" in errors[0].reason and "sEcReTtOkEn" not in errors[0].reason


def test_the_webhook_url_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("NEWSMON_SLACK_URL", "https://hooks.slack.com" + SECRET_PATH)
    config = SlackConfig.model_validate({"type": "slack", "webhook_url_env": "NEWSMON_SLACK_URL"})
    assert config.webhook_url.get_secret_value().endswith(SECRET_PATH)
    with pytest.raises(ValueError, match="NOT_SET_ANYWHERE"):
        SlackConfig.model_validate({"type": "slack", "webhook_url_env": "NOT_SET_ANYWHERE"})


def sample_alert(**changes) -> Alert:
    base = dict(
        id="a-1",
        story_id="s-1",
        kind="new",
        headline="Russia asks China for drones & artillery",
        topics=["military_aid"],
        actors=["CHN", "RUS"],
        evidence=[Evidence(sentence="Russia asked China for drones, officials said.", index=0)],
        source="Wire",
        url="https://news.example.org/1",
        corroboration=3,
    )
    return Alert(**{**base, **changes})


def test_message_structure_header_evidence_actors_context_and_button():
    message = alert_message(sample_alert())
    header, section, context, actions = message["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Russia asks China for drones &amp; artillery", "emoji": False},
    }
    assert section["text"]["text"] == "» Russia asked China for drones, officials said."
    assert section["fields"][0]["text"] == "*Actors:* CHN / RUS"
    context_text = " ".join(e["text"] for e in context["elements"])
    for part in ("*Source:* Wire", "*First seen:*", "*Corroboration:* 3 outlet(s)", "alert `a-1`"):
        assert part in context_text
    assert actions["elements"][0]["url"] == "https://news.example.org/1"
    assert message["text"].startswith("newsmon new story: Russia asks China")


def test_an_escalation_without_a_thread_says_which_alert_it_updates():
    message = alert_message(sample_alert(id="a-2", kind="escalation", updates="a-1"))
    assert message["blocks"][0]["text"]["text"].startswith("Escalation: ")
    assert any("updates alert `a-1`" in e["text"] for e in message["blocks"][2]["elements"])


def test_bot_mode_threads_an_escalation_under_the_first_alert(httpserver):
    """chat.postMessage returns a ts; the ledger keeps it; the escalation is posted with thread_ts."""
    posted = []

    def handler(request):
        from werkzeug import Response

        body = json.loads(request.data)
        posted.append((request.headers.get("Authorization"), body))
        return Response(json.dumps({"ok": True, "ts": f"1700000000.00010{len(posted)}"}), content_type="application/json")

    httpserver.expect_request("/api/chat.postMessage").respond_with_handler(handler)
    sink = SlackSink(
        SlackConfig(
            type="slack",
            bot_token="xoxb-test",
            channel="C123",
            rate_per_s=50,
            api_url=httpserver.url_for("/api/chat.postMessage"),
            allow_networks=LOOPBACK,
        )
    )

    async def no_schedule(task):
        raise AssertionError("nothing fails here")

    deliverer = Deliverer(
        [sink], {}, {}, Metrics(CollectorRegistry()), partitions=1, schedule=no_schedule, dead_letter=no_schedule
    )

    async def go():
        await deliverer.on_alert(sample_alert(), sink, 0)
        await deliverer.on_alert(sample_alert(id="a-2", kind="escalation", updates="a-1"), sink, 0)
        await sink.close()

    asyncio.run(go())
    (auth1, first), (_, second) = posted
    assert auth1 == "Bearer xoxb-test" and first["channel"] == "C123" and "thread_ts" not in first
    assert second["thread_ts"] == "1700000000.000101"
    assert not any("updates alert" in e.get("text", "") for b in second["blocks"] for e in b.get("elements", []))
    assert deliverer.ledger["a-1|slack"]["ref"] == "1700000000.000101"


# --- property tests: nothing a feed can put in an alert breaks Slack's limits or escapes -----

MARKUP = [
    "<!channel>",
    "<!here>",
    "<@U024BE7LH>",
    "<#C024BE7LH>",
    "<https://evil.example|click>",
    "&",
    "&amp;",
    "&lt;",
    "<",
    ">",
    "*bold*",
    "`code`",
    "\x00",
    "\x1b[31m",
    "\u2028",
    "😀",
    "𝔘",
]
piece = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=40),  # CJK
    st.sampled_from(MARKUP),
)
feed_string = st.builds(
    lambda parts, repeat: "".join(parts) * repeat, st.lists(piece, min_size=1, max_size=8), st.integers(1, 400)
).filter(lambda text: text.strip() != "")  # records refuse blank text

ENTITY = re.compile(r"&(amp|lt|gt);")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def assert_safe(payload: dict) -> None:
    assert limit_problems(payload) == []
    for text in texts(payload):
        stripped = ENTITY.sub("", text)
        assert "<" not in stripped and ">" not in stripped and "&" not in stripped, text[:200]
        assert not CONTROL.search(text)
    for block in payload["blocks"]:
        if block["type"] == "header":
            assert units(block["text"]["text"]) <= HEADER_CHARS


alerts_strategy = st.builds(
    lambda headline, sentences, source, actors, kind: sample_alert(
        headline=headline,
        source=source,
        actors=actors,
        kind=kind,
        updates="a-0" if kind == "escalation" else "",
        evidence=[Evidence(sentence=s, index=i) for i, s in enumerate(sentences)],
    ),
    feed_string,
    st.lists(feed_string, max_size=5),
    feed_string,
    st.lists(feed_string, max_size=4),
    st.sampled_from(["new", "escalation"]),
)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(alerts_strategy)
def test_no_alert_makes_a_message_over_the_limits_or_with_live_markup(alert):
    assert_safe(alert_message(alert))
    assert_safe(alert_message(alert, threaded=True))


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(alerts_strategy, min_size=1, max_size=60))
def test_a_digest_splits_into_messages_within_the_limits_and_keeps_every_alert(alerts):
    alerts = [Alert(**{**a.asdict(), "id": f"a-{n}"}) for n, a in enumerate(alerts)]
    messages = digest_messages(alerts, 15)
    for message in messages:
        assert_safe(message)
    named = [t.split("`")[1] for m in messages for t in texts(m) if t.startswith("alert `")]
    assert named == [a.id for a in alerts]


def test_bot_mode_reads_a_long_chat_post_message_answer_whole(httpserver):
    """chat.postMessage echoes the whole message back, often past 2,000 characters; cut short,
    the JSON would not parse and a posted message would be dead-lettered as unreadable."""

    def handler(request):
        from werkzeug import Response

        echo = {
            "ok": True,
            "ts": "1700000000.000900",
            "message": {"blocks": json.loads(request.data)["blocks"], "pad": "x" * 20_000},
        }
        return Response(json.dumps(echo), content_type="application/json")

    httpserver.expect_request("/api/chat.postMessage").respond_with_handler(handler)
    sink = SlackSink(
        SlackConfig(
            type="slack",
            bot_token="xoxb-test",
            channel="C123",
            rate_per_s=50,
            api_url=httpserver.url_for("/api/chat.postMessage"),
            allow_networks=LOOPBACK,
        )
    )

    async def go():
        try:
            return await sink.deliver(sample_alert())
        finally:
            await sink.close()

    assert asyncio.run(go()) == "1700000000.000900"
