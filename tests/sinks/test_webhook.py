"""Webhook sink against a real loopback receiver that verifies with the standardwebhooks library."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from monitor.net.guard import address_refusal, allowlist
from monitor.runtime.metrics import Metrics
from monitor.sinks.base import DeliveryError, EndpointThrottled
from monitor.sinks.deliverer import Deliverer
from monitor.sinks.webhook import WebhookConfig, WebhookSink, sign
from tests.support.alerts import make_alerts
from tests.support.receivers import WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LOOPBACK = ("127.0.0.0/8",)


def sink_for(url: str, **options) -> WebhookSink:
    options.setdefault("allow_networks", LOOPBACK)
    return WebhookSink(WebhookConfig(type="webhook", name="hook", url=url, secret=SECRET, **options))


async def send_all(sink, alerts):
    try:
        for alert in alerts:
            await sink.send(alert)
    finally:
        await sink.close()


def test_every_webhook_verifies_with_the_standardwebhooks_library():
    """50 alerts: each request verifies, webhook-id is the alert id, the body is the documented schema."""
    alerts = make_alerts(50)
    with WebhookReceiver(SECRET) as hook:
        asyncio.run(send_all(sink_for(f"{hook.url}/in"), alerts))
    assert len(hook.verified) == 50 and not hook.rejected
    assert [r.headers["webhook-id"] for r in hook.verified] == [a.id for a in alerts]
    body = hook.verified[0].json()
    assert body["version"] == 1 and body["type"] == "alert.new" and body["id"] == alerts[0].id
    assert body["data"]["headline"] == alerts[0].headline and "__faust" not in json.dumps(body)


def test_a_tampered_body_or_a_timestamp_six_minutes_off_is_rejected():
    """The receiver's library rejects a changed body and a signature made 6 minutes ago or ahead."""
    with WebhookReceiver(SECRET) as hook:
        asyncio.run(send_all(sink_for(f"{hook.url}/in"), make_alerts(1)))
    (request,) = hook.verified
    verifier = Webhook(SECRET)
    verifier.verify(request.body, request.headers)  # the original passes
    tampered = request.body.replace(b"drones", b"tanks")
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verifier.verify(tampered, request.headers)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    for offset, message in ((-360, "too old"), (360, "too new")):
        stamp = int(time.time()) + offset
        headers = {
            **request.headers,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(key, request.headers["webhook-id"], stamp, request.body),
        }
        with pytest.raises(WebhookVerificationError, match=message):
            verifier.verify(request.body, headers)


def _deliverer(sinks, letters, **kwargs):
    """A Deliverer on plain dicts whose retry topic loops straight back into it."""
    holder = {}

    async def schedule(task):
        await holder["d"].on_task(task, task.partition)

    async def dead_letter(*args):
        letters.append(args)

    holder["d"] = Deliverer(
        sinks,
        {},
        {},
        Metrics(CollectorRegistry()),
        partitions=1,
        schedule=schedule,
        dead_letter=dead_letter,
        **kwargs,
    )
    return holder["d"]


async def _drive(deliverer, alert, sink, *, until_settled: float = 20.0):
    """First attempt, then ticks until nothing is pending (as the worker's timer would)."""
    await deliverer.on_alert(alert, sink, 0)
    deadline = time.monotonic() + until_settled
    while deliverer.pending and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        await deliverer.on_tick(0)


def test_retries_keep_the_webhook_id_and_back_off_then_succeed():
    """503, 502 (Retry-After 1), then 200: three signed requests, one webhook-id, waits honoured."""
    answers = [(503, "busy", {}), (502, "bad gateway", {"Retry-After": "1"})]
    alert = make_alerts(1)[0]
    letters: list = []
    with WebhookReceiver(SECRET, fail=lambda r: answers.pop(0) if answers else None) as hook:
        sink = sink_for(f"{hook.url}/in", retry_delays_s=(0.3, 0.3, 0.3), retry_jitter=0.0)
        deliverer = _deliverer([sink], letters)

        async def go():
            await _drive(deliverer, alert, sink)
            await sink.close()

        asyncio.run(go())
    assert [r.status for r in hook.verified] == [503, 502, 200] and not letters
    assert {r.headers["webhook-id"] for r in hook.verified} == {alert.id}
    assert hook.verified[2].at - hook.verified[1].at >= 0.95, "Retry-After: 1 beats the 0.3 s backoff"
    assert hook.verified[1].at - hook.verified[0].at >= 0.28
    assert deliverer.ledger[f"{alert.id}|hook"]["state"] == "delivered"
    attempts = deliverer.metrics.registry.get_sample_value
    assert attempts("newsmon_delivery_attempts_total", {"sink": "webhook", "outcome": "retryable"}) == 2
    assert attempts("newsmon_delivery_attempts_total", {"sink": "webhook", "outcome": "ok"}) == 1


def test_exhausted_retries_are_dead_lettered_with_the_last_error():
    alert = make_alerts(1)[0]
    letters: list = []
    with WebhookReceiver(SECRET, fail=lambda r: (500, "still broken", {})) as hook:
        sink = sink_for(f"{hook.url}/in", retry_delays_s=(0.1, 0.1), retry_jitter=0.0)
        deliverer = _deliverer([sink], letters)

        async def go():
            await _drive(deliverer, alert, sink)
            await sink.close()

        asyncio.run(go())
    assert len(hook.verified) == 3, "first attempt + two retries"
    ((reason, error, dead, sink_name, attempts, _partition),) = letters
    assert (reason, dead.id, sink_name, attempts) == ("retries_exhausted", alert.id, "hook", 3)
    assert "answered 500: still broken" in error
    assert deliverer.ledger[f"{alert.id}|hook"]["state"] == "dead" and not deliverer.pending


def test_410_disables_the_endpoint_and_nothing_more_is_sent():
    alerts = make_alerts(3)
    with WebhookReceiver(SECRET, fail=lambda r: (410, "gone", {})) as hook:
        sink = sink_for(f"{hook.url}/in")

        async def go():
            errors = []
            for alert in alerts:
                try:
                    await sink.send(alert)
                except DeliveryError as exc:
                    errors.append(exc)
            await sink.close()
            return errors

        errors = asyncio.run(go())
    assert len(hook.requests) == 1
    assert all(not e.retryable for e in errors) and "disabled" in errors[2].reason


def test_429_throttles_the_endpoint_until_retry_after():
    """After a 429 with Retry-After: 30 the sink sends nothing and hands the wait back."""
    with WebhookReceiver(SECRET, fail=lambda r: (429, "slow down", {"Retry-After": "30"})) as hook:
        sink = sink_for(f"{hook.url}/in")

        async def go():
            alerts = make_alerts(2)
            with pytest.raises(DeliveryError) as first:
                await sink.send(alerts[0])
            with pytest.raises(EndpointThrottled) as second:
                await sink.send(alerts[1])
            await sink.close()
            return first.value, second.value

        first, second = asyncio.run(go())
    assert len(hook.requests) == 1
    assert first.retryable and first.retry_after_s == 30
    assert 25 < second.retry_after_s <= 30


def test_redirects_are_not_followed(httpserver):
    httpserver.expect_request("/in").respond_with_data("", status=302, headers={"Location": httpserver.url_for("/elsewhere")})
    sink = sink_for(httpserver.url_for("/in"))
    with pytest.raises(DeliveryError, match="redirect") as error:
        asyncio.run(send_all(sink, make_alerts(1)))
    assert not error.value.retryable
    assert [r.path for r, _ in httpserver.log] == ["/in"]


def test_a_silent_endpoint_times_out_and_is_retryable(httpserver):
    def slow(request):
        time.sleep(1.5)
        from werkzeug import Response

        return Response("late")

    httpserver.expect_request("/in").respond_with_handler(slow)
    sink = sink_for(httpserver.url_for("/in"), timeout_s=0.5)
    began = time.monotonic()
    with pytest.raises(DeliveryError, match="did not answer within 0.5 s") as error:
        asyncio.run(send_all(sink, make_alerts(1)))
    assert error.value.retryable and time.monotonic() - began < 1.4


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://localhost:9/x", "http://[::1]:9/x"])
def test_loopback_destinations_are_refused_unless_allowed(url):
    """No connection is attempted to a loopback/private host that configuration did not allow."""
    sink = sink_for(url, allow_networks=())
    with pytest.raises(DeliveryError, match="blocked") as error:
        asyncio.run(send_all(sink, make_alerts(1)))
    assert not error.value.retryable


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private"),
        ("192.168.0.1", "private"),
        ("172.16.5.4", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("::ffff:10.0.0.1", "private"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_address_check(address, reason):
    found = address_refusal(address)
    assert (found.split(" is ")[1].split()[0] if found else None) == reason


def test_allowed_networks_open_only_themselves():
    allow = allowlist("127.0.0.0/8")
    assert address_refusal("127.0.0.1", 80, allow) is None
    assert address_refusal("10.0.0.1", 80, allow) is not None


def test_the_secret_is_validated_and_never_printed():
    config = WebhookConfig(type="webhook", url="https://example.org/h", secret=SECRET)
    assert SECRET not in repr(config) and SECRET not in str(config.model_dump())
    with pytest.raises(ValueError, match="whsec_"):
        WebhookConfig(type="webhook", url="https://example.org/h", secret="plain-password")


def test_the_secret_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    config = WebhookConfig.model_validate({"type": "webhook", "url": "https://example.org/h", "secret_env": "HOOK_SECRET"})
    assert config.secret.get_secret_value() == SECRET


def test_a_digest_is_one_signed_request_with_every_alert():
    alerts = make_alerts(5)
    with WebhookReceiver(SECRET) as hook:
        sink = sink_for(f"{hook.url}/in", digest_minutes=5)

        async def go():
            await sink.send_batch(alerts)
            await sink.close()

        asyncio.run(go())
    (request,) = hook.verified
    body = request.json()
    assert body["type"] == "alert.digest" and request.headers["webhook-id"].startswith("digest_")
    assert [a["id"] for a in body["data"]["alerts"]] == [a.id for a in alerts]


def test_our_signature_is_the_reference_librarys():
    """Our runtime signer (no test dependency) signs exactly as the standardwebhooks library."""
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    stamp = int(datetime(2022, 1, 1, tzinfo=UTC).timestamp())
    body = b'{"test": 2432232314}'
    expected = Webhook(SECRET).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", datetime.fromtimestamp(stamp, tz=UTC), body.decode())
    assert sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", stamp, body) == expected
