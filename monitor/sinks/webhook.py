"""Webhook sink: a versioned JSON body signed per the Standard Webhooks specification.

Headers: ``webhook-id`` (the alert id, the same on every retry, so receivers can
deduplicate), ``webhook-timestamp`` (unix seconds of this attempt) and
``webhook-signature`` = ``v1,`` + base64 HMAC-SHA256 over ``id.timestamp.body`` with the
base64-decoded part of the ``whsec_`` secret. Redirects are not followed; 15 s timeout;
410 disables the endpoint until restart; 429/502/504 throttle it and honour
``Retry-After``; other 5xx, 408 and network errors are retried by the scheduler; other
4xx are dead-lettered. The body schema is in the README.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from typing import Any

from pydantic import Field, SecretStr, field_validator, model_validator

from monitor.models import Alert, plain
from monitor.net.guard import allowlist
from monitor.sinks.base import DeliveryError, Sink, SinkConfig, console_link, register
from monitor.sinks.endpoint import Endpoint, Response

SCHEMA_VERSION = 1
SECRET_PREFIX = "whsec_"
THROTTLE_STATUSES = {429, 502, 504}
#: How long a 429/502/504 without Retry-After keeps the endpoint quiet.
DEFAULT_THROTTLE_S = 5.0


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_<base64>`` secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a Standard Webhooks secret starts with {SECRET_PREFIX}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise ValueError("the part after whsec_ must be base64") from exc
    if len(key) < 16:
        raise ValueError("the secret must decode to at least 16 bytes")
    return key


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one attempt."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def alert_data(alert: Alert) -> dict[str, Any]:
    return plain(alert)


def alert_body(alert: Alert, console: str | None = None) -> tuple[str, bytes]:
    """(webhook-id, body) for one alert; ``console``: the alert's page on the console."""
    created = alert.created_at.isoformat() if alert.created_at else None
    document = {
        "version": SCHEMA_VERSION,
        "type": f"alert.{alert.kind}",
        "id": alert.id,
        "timestamp": created,
        "data": alert_data(alert),
    }
    if console:
        document["console_url"] = console
    return alert.id, json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


def digest_body(alerts: list[Alert]) -> tuple[str, bytes]:
    """(webhook-id, body) for a digest: the id hashes the alert ids, so a retry keeps it."""
    ids = sorted(alert.id for alert in alerts)
    msg_id = "digest_" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:32]
    document = {
        "version": SCHEMA_VERSION,
        "type": "alert.digest",
        "id": msg_id,
        "timestamp": None,
        "data": {"alerts": [alert_data(alert) for alert in alerts]},
    }
    return msg_id, json.dumps(document, ensure_ascii=False, sort_keys=True).encode()


class WebhookConfig(SinkConfig):
    url: str
    secret: SecretStr | None = None
    #: Name of an environment variable holding the secret (instead of ``secret``).
    secret_env: str = ""
    timeout_s: float = Field(default=15.0, gt=0)
    #: Waits out a Retry-After up to this long in place; longer ones go to the scheduler.
    max_wait_s: float = Field(default=5.0, ge=0)
    #: Networks that may be contacted although private/loopback (tests: 127.0.0.0/8).
    allow_networks: tuple[str, ...] = ()

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @model_validator(mode="before")
    @classmethod
    def _secret_from_env(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("secret_env") and not data.get("secret"):
            value = os.environ.get(data["secret_env"], "")
            if not value:
                raise ValueError(f"secret_env names {data['secret_env']}, which is not set")
            data = {**data, "secret": value}
        return data

    @model_validator(mode="after")
    def _valid_secret(self) -> WebhookConfig:
        if self.secret is None:
            raise ValueError("a webhook needs a whsec_ secret (secret or secret_env)")
        secret_key(self.secret.get_secret_value())
        allowlist(",".join(self.allow_networks))  # raises ValueError naming a bad entry
        return self


@register("webhook")
class WebhookSink(Sink):
    config_model = WebhookConfig
    config: WebhookConfig

    def __init__(self, config: WebhookConfig, **kwargs):
        super().__init__(config, **kwargs)
        assert config.secret is not None  # WebhookConfig refuses a webhook without a secret
        self.key = secret_key(config.secret.get_secret_value())
        self.endpoint = Endpoint(
            config.url,
            timeout_s=config.timeout_s,
            allow=allowlist(",".join(config.allow_networks)),
            max_wait_s=config.max_wait_s,
        )

    async def start(self) -> None:
        await self.endpoint.start()

    async def close(self) -> None:
        await self.endpoint.close()

    async def send(self, alert: Alert) -> None:
        await self._post(*alert_body(alert, console_link(self.config.console_url, alert)))

    async def send_batch(self, alerts: list[Alert]) -> None:
        await self._post(*digest_body(alerts))

    def headers(self, msg_id: str, body: bytes) -> dict[str, str]:
        """Standard Webhooks headers, signed at the moment of sending."""
        timestamp = int(time.time())
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.key, msg_id, timestamp, body),
        }

    async def _post(self, msg_id: str, body: bytes) -> None:
        resp = await self.endpoint.post(body, lambda: self.headers(msg_id, body))
        self._result(resp)

    def _result(self, resp: Response) -> None:
        status, text = resp.status, resp.text.strip()[:300]
        if 200 <= status < 300:
            return
        if status == 410:
            self.endpoint.disable("it answered 410 Gone")
            raise DeliveryError(f"{self.endpoint.host} answered 410 Gone; endpoint disabled", retryable=False)
        if status in THROTTLE_STATUSES:
            wait = resp.retry_after_s()
            self.endpoint.throttle(wait if wait is not None else DEFAULT_THROTTLE_S)
            raise DeliveryError(f"{self.endpoint.host} answered {status}: {text}", retry_after_s=wait)
        if 300 <= status < 400:
            raise DeliveryError(
                f"{self.endpoint.host} answered a redirect ({status}); redirects are not followed", retryable=False
            )
        if status == 408 or status >= 500:
            raise DeliveryError(f"{self.endpoint.host} answered {status}: {text}")
        raise DeliveryError(f"{self.endpoint.host} rejected the alert: {status} {text}", retryable=False)
