"""An alert that rests on a denial, a condition or a report says so: console and Slack
headers name the modality, the webhook body carries modality, severity and score."""

from __future__ import annotations

import asyncio
import json

import pytest

from monitor.models import Alert
from monitor.sinks.console import render
from monitor.sinks.slack_message import alert_message, digest_messages, limit_problems
from monitor.sinks.webhook import WebhookConfig, WebhookSink
from tests.support.alerts import make_alerts
from tests.support.receivers import WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

#: modality → what the header says (asserted says nothing extra).
LABELS = {
    "asserted": "",
    "attributed": "reported",
    "hedged": "reported",
    "conditional": "conditional",
    "denied": "denied",
}


def alert_with(modality: str, **fields) -> Alert:
    return make_alerts(1)[0].derive(modality=modality, **fields)


@pytest.mark.parametrize(("modality", "label"), LABELS.items())
def test_the_console_header_names_the_modality_when_it_is_not_asserted(modality, label):
    header = render(alert_with(modality)).splitlines()[0]
    expected = ["NEW STORY", label, "military_aid", "CHN / RUS"] if label else ["NEW STORY", "military_aid", "CHN / RUS"]
    assert header == "━━ newsmon alert · " + " · ".join(expected)


def test_the_console_header_of_an_escalation_names_the_modality_too():
    header = render(alert_with("denied", kind="escalation", updates="alert-0000")).splitlines()[0]
    assert header == "━━ newsmon alert · ESCALATION · denied · military_aid · CHN / RUS"


@pytest.mark.parametrize(("modality", "label"), LABELS.items())
def test_the_slack_header_and_notification_name_the_modality(modality, label):
    alert = alert_with(modality)
    message = alert_message(alert)
    header = message["blocks"][0]["text"]["text"]
    assert header == (f"{label.capitalize()}: {alert.headline}" if label else alert.headline)
    assert message["text"].startswith(f"newsmon new story · {label}: " if label else "newsmon new story: ")
    assert limit_problems(message) == []


def test_a_slack_escalation_header_keeps_its_prefix_and_adds_the_modality():
    alert = alert_with("conditional", kind="escalation", updates="alert-0000")
    header = alert_message(alert)["blocks"][0]["text"]["text"]
    assert header == f"Escalation · conditional: {alert.headline}"


def test_a_slack_header_with_the_modality_still_fits_slacks_150_characters():
    alert = alert_with("conditional", kind="escalation", headline="Беспилотники " * 40)
    message = alert_message(alert)
    assert message["blocks"][0]["text"]["text"].startswith("Escalation · conditional: Беспилотники")
    assert limit_problems(message) == []


def test_a_slack_digest_item_names_the_modality():
    (message,) = digest_messages([alert_with("hedged"), alert_with("asserted", id="alert-0001")], 5)
    items = [block["text"]["text"] for block in message["blocks"] if block["type"] == "section"]
    assert items[0].startswith("*New story · reported:* ") and items[1].startswith("*New story:* ")


def test_the_webhook_body_carries_modality_severity_and_score():
    """Through a real loopback receiver that verifies the signature."""
    alert = alert_with("denied", severity="low", score=0.42)
    with WebhookReceiver(SECRET) as hook:
        config = WebhookConfig(type="webhook", name="hook", url=f"{hook.url}/in", secret=SECRET, allow_networks=("127.0.0.0/8",))
        sink = WebhookSink(config)

        async def go() -> None:
            try:
                await sink.send(alert)
            finally:
                await sink.close()

        asyncio.run(go())
    (request,) = hook.verified
    data = request.json()["data"]
    assert (data["modality"], data["severity"], data["score"]) == ("denied", "low", 0.42)


def test_an_alert_from_before_these_fields_reads_as_asserted_with_score_zero():
    """Records already on the alerts topic have neither field: defaults, not an error."""
    data = json.loads(make_alerts(1)[0].dumps(serializer="json"))
    del data["modality"], data["score"]
    alert = Alert.loads(json.dumps(data).encode(), serializer="json")
    assert (alert.modality, alert.score) == ("asserted", 0.0)
