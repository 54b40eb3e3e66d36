"""Slack sink: Block Kit messages through an incoming webhook, or chat.postMessage with a
bot token when escalations should be threaded under their story's first alert.

Incoming webhooks answer ``ok`` and no message ``ts``, so they cannot thread: an
escalation is posted as a follow-up that names the alert it updates. With ``bot_token``
and ``channel`` the sink uses ``chat.postMessage``, whose answer carries the ``ts`` the
delivery ledger keeps; an escalation then becomes a reply in that thread.

Secrets (the webhook URL, the bot token) are ``SecretStr``: masked when the config is
printed, never logged (errors name the host only). They come from sinks.yaml or from the
environment variable named by ``webhook_url_env`` / ``bot_token_env``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import Field, SecretStr, model_validator

from monitor.models import Alert
from monitor.net.guard import allowlist
from monitor.sinks.base import DeliveryError, Sink, SinkConfig, console_link, register
from monitor.sinks.endpoint import Endpoint, Response
from monitor.sinks.slack_message import alert_message, digest_messages

#: Slack says: stop, this request will never succeed (bad payload, revoked or archived).
PERMANENT_STATUSES = {400, 403, 404, 410}
#: chat.postMessage errors that may pass if tried again later.
RETRYABLE_API_ERRORS = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
#: A 429 whose Retry-After is at most this long is waited out in place, up to this many times.
INLINE_429_TRIES = 3


class SlackConfig(SinkConfig):
    webhook_url: SecretStr | None = None
    #: Name of an environment variable holding the webhook URL (instead of ``webhook_url``).
    webhook_url_env: str = ""
    bot_token: SecretStr | None = None
    bot_token_env: str = ""
    #: Channel id for bot-token mode.
    channel: str = ""
    api_url: str = "https://slack.com/api/chat.postMessage"
    #: Slack allows about one message per second per webhook or channel.
    rate_per_s: float = Field(default=1.0, gt=0)
    timeout_s: float = Field(default=15.0, gt=0)
    #: Waits for Retry-After up to this long in place; longer ones go back to the scheduler.
    max_wait_s: float = Field(default=5.0, ge=0)
    #: Networks that may be contacted although private/loopback (tests: 127.0.0.0/8).
    allow_networks: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_env(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for field in ("webhook_url", "bot_token"):
            variable = data.get(f"{field}_env")
            if variable and not data.get(field):
                value = os.environ.get(variable, "")
                if not value:
                    raise ValueError(f"{field}_env names {variable}, which is not set")
                data[field] = value
        return data

    @model_validator(mode="after")
    def _one_mode(self) -> SlackConfig:
        if bool(self.webhook_url) == bool(self.bot_token):
            raise ValueError("give either webhook_url (incoming webhook) or bot_token with channel")
        if self.bot_token and not self.channel:
            raise ValueError("bot_token needs a channel")
        url = self.webhook_url.get_secret_value() if self.webhook_url else self.api_url
        if not url.startswith(("https://", "http://")):
            raise ValueError("the Slack URL must be http(s)")
        allowlist(",".join(self.allow_networks))  # raises ValueError naming a bad entry
        return self


def _api_error(resp: Response) -> str | None:
    """chat.postMessage's error code, or None when it said ok."""
    try:
        answer = json.loads(resp.text)
    except ValueError:
        return "unreadable_response"
    return None if answer.get("ok") else str(answer.get("error") or "unknown_error")


@register("slack")
class SlackSink(Sink):
    config_model = SlackConfig
    config: SlackConfig

    def __init__(self, config: SlackConfig, **kwargs):
        super().__init__(config, **kwargs)
        self.bot = config.bot_token is not None
        if config.bot_token is not None:
            url = config.api_url
        else:
            assert config.webhook_url is not None  # SlackConfig requires one of the two modes
            url = config.webhook_url.get_secret_value()
        self.endpoint = Endpoint(
            url,
            timeout_s=config.timeout_s,
            allow=allowlist(",".join(config.allow_networks)),
            rate_per_s=config.rate_per_s,
            max_wait_s=config.max_wait_s,
        )

    async def start(self) -> None:
        await self.endpoint.start()

    async def close(self) -> None:
        await self.endpoint.close()

    async def send(self, alert: Alert) -> None:
        await self.deliver(alert)

    async def deliver(self, alert: Alert, thread: str | None = None) -> str | None:
        threaded = self.bot and bool(thread) and alert.kind == "escalation"
        payload = alert_message(alert, threaded=threaded, console=console_link(self.config.console_url, alert))
        if threaded:
            payload["thread_ts"] = thread
        return await self._post(payload)

    async def send_batch(self, alerts: list[Alert]) -> None:
        for payload in digest_messages(alerts, self.config.digest_minutes):
            await self._post(payload)

    async def _post(self, payload: dict[str, Any]) -> str | None:
        headers: dict[str, str] = {}
        token = self.config.bot_token
        if token is not None:
            payload = {"channel": self.config.channel, **payload}
            headers["Authorization"] = f"Bearer {token.get_secret_value()}"
        body = json.dumps(payload, ensure_ascii=False).encode()
        for _ in range(INLINE_429_TRIES):
            resp = await self.endpoint.post(body, headers)
            if resp.status != 429:
                return self._result(resp)
            wait = resp.retry_after_s() or 1.0
            self.endpoint.throttle(wait)
            if wait > self.config.max_wait_s:
                break
        raise DeliveryError(f"Slack rate-limited us (429, Retry-After {wait:g} s)", retry_after_s=wait)

    def _result(self, resp: Response) -> str | None:
        error = resp.text.strip()[:300]
        if resp.status in PERMANENT_STATUSES:
            raise DeliveryError(f"Slack refused the message: {resp.status} {error}", retryable=False)
        if resp.status >= 500:
            raise DeliveryError(f"Slack failed: {resp.status} {error}")
        if resp.status != 200:
            raise DeliveryError(f"unexpected answer from Slack: {resp.status} {error}", retryable=False)
        if not self.bot:
            return None
        code = _api_error(resp)
        if code is None:
            return str(json.loads(resp.text).get("ts") or "") or None
        if code == "ratelimited":
            wait = resp.retry_after_s() or 1.0
            self.endpoint.throttle(wait)
            raise DeliveryError("Slack rate-limited us (ratelimited)", retry_after_s=wait)
        raise DeliveryError(f"chat.postMessage failed: {code}", retryable=code in RETRYABLE_API_ERRORS)
