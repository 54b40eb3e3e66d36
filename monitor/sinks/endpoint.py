"""One HTTP endpoint a sink POSTs to: pacing, throttling, no redirects, checked destination.

Slack and webhook sinks share this shell and differ only in how they read a response.
The endpoint remembers a ``Retry-After`` it was given and sends nothing to that URL
before it expires: a short wait is slept here, a long one is handed back to the
delivery scheduler as ``EndpointThrottled`` so other alerts and sinks go on. The URL may
carry a secret (Slack's webhook), so it never appears in a message, log or metric.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDict

from monitor.net.guard import NOTHING_ALLOWED, Allowlist, guarded_connector, refusal_in, url_refusal
from monitor.net.retry_after import retry_after_s
from monitor.sinks.base import DeliveryError, EndpointThrottled

#: The most of an answer's body read. Slack's chat.postMessage echoes the whole message back
#: (blocks, URLs escaped), well past a few kilobytes; the JSON must be read whole to see "ok".
MAX_ANSWER_BYTES = 1024 * 1024
#: The longest a receiver's Retry-After is honoured. Past it the alert is tried again and the
#: try counts, so an endpoint asking for a year is dead-lettered in time instead of parking
#: its sink until a restart.
MAX_RETRY_AFTER_S = 3600.0


@dataclass(frozen=True)
class Response:
    status: int
    #: Case-insensitive, as HTTP header names are: "retry-after" is "Retry-After".
    headers: Mapping[str, str]
    text: str

    def retry_after_s(self) -> float | None:
        """The wait its ``Retry-After`` asks for, at most ``MAX_RETRY_AFTER_S``, or None."""
        wait = retry_after_s(self.headers.get("Retry-After"))
        return None if wait is None else min(wait, MAX_RETRY_AFTER_S)


class Pacer:
    """At most ``rate_per_s`` requests per second, spaced evenly (Slack: 1 per webhook).

    The receiver measures the gap between the requests it *receives*, so a slot is
    counted from when the previous answer came back as well as from when it was sent:
    a request delayed on the way (a busy host, a slow scheduler) then cannot arrive
    closer than one interval behind the next one, which Slack would answer with a 429.
    """

    def __init__(self, rate_per_s: float | None, clock: Callable[[], float] = time.monotonic):
        self.interval = 1.0 / rate_per_s if rate_per_s else 0.0
        self.clock = clock
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self.lock:
            delay = self.next_at - self.clock()
            if delay > 0:
                await asyncio.sleep(delay)
            self.next_at = max(self.clock(), self.next_at) + self.interval

    def answered(self) -> None:
        """The previous request has been answered: the next goes one interval after this."""
        self.next_at = max(self.next_at, self.clock() + self.interval)

    def hold(self, seconds: float) -> None:
        """Push the next slot out (a 429's Retry-After)."""
        self.next_at = max(self.next_at, self.clock() + seconds)


class Endpoint:
    """POSTs JSON to one URL; raises DeliveryError for network trouble and blocked hosts."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float,
        allow: Allowlist = NOTHING_ALLOWED,
        rate_per_s: float | None = None,
        max_wait_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.url = url
        self.timeout_s = timeout_s
        self.allow = allow
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.pacer = Pacer(rate_per_s, clock)
        self.blocked_until = 0.0
        self.disabled: str | None = None
        self.session: aiohttp.ClientSession | None = None

    @property
    def host(self) -> str:
        """What may be shown of the URL: its host, never its path (it may hold a secret)."""
        return urlsplit(self.url).hostname or "?"

    async def start(self) -> None:
        if self.session is None or self.session.closed:
            # The same guard as the poller's: names and literals, checked on the address connected to.
            connector = guarded_connector(self.allow, limit_per_host=4)
            self.session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    def throttle(self, seconds: float) -> None:
        """Send nothing to this endpoint for ``seconds`` (at most ``MAX_RETRY_AFTER_S``)."""
        seconds = min(seconds, MAX_RETRY_AFTER_S)
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)
        self.pacer.hold(seconds)

    def disable(self, reason: str) -> None:
        self.disabled = reason

    def _check_literal_host(self) -> None:
        # Refuse before connecting when the URL itself names a non-public address.
        reason = url_refusal(self.url, self.allow)
        if reason:
            raise DeliveryError(f"destination {self.host} blocked: {reason}", retryable=False)

    async def _respect_throttle(self) -> None:
        remaining = self.blocked_until - self.clock()
        if remaining <= 0:
            return
        if remaining > self.max_wait_s:
            raise EndpointThrottled(f"{self.host} asked us to wait {remaining:.0f} s", retry_after_s=remaining)
        await asyncio.sleep(remaining)

    async def post(self, body: bytes, headers: Mapping[str, str] | Callable[[], Mapping[str, str]]) -> Response:
        """One POST, redirects not followed. ``headers`` may be a callable so a signature is
        computed after any wait (its timestamp is then the time of sending)."""
        if self.disabled:
            raise DeliveryError(f"endpoint {self.host} disabled: {self.disabled}", retryable=False)
        self._check_literal_host()
        await self._respect_throttle()
        await self.pacer.wait()
        await self._respect_throttle()  # a 429 that arrived while we waited for our slot
        await self.start()
        assert self.session is not None
        sent_headers = {"Content-Type": "application/json", **(headers() if callable(headers) else headers)}
        try:
            async with self.session.post(self.url, data=body, headers=sent_headers, allow_redirects=False) as resp:
                raw = await resp.content.read(MAX_ANSWER_BYTES)
                text = raw.decode(resp.charset or "utf-8", errors="replace")
                return Response(resp.status, CIMultiDict(resp.headers), text)
        except TimeoutError:  # an OSError too: it must come first
            raise DeliveryError(f"{self.host} did not answer within {self.timeout_s:g} s") from None
        except (OSError, aiohttp.ClientConnectorError) as exc:
            refusal = refusal_in(exc)
            if refusal:
                raise DeliveryError(f"destination {self.host} blocked: {refusal}", retryable=False) from None
            if not isinstance(exc, aiohttp.ClientConnectorError):
                raise DeliveryError(f"cannot connect to {self.host}: {type(exc).__name__}") from None
            raise DeliveryError(
                f"cannot connect to {self.host}: {exc.os_error.strerror or type(exc.os_error).__name__}"
            ) from None
        except aiohttp.ClientError as exc:
            raise DeliveryError(f"HTTP error talking to {self.host}: {type(exc).__name__}") from None
        finally:
            self.pacer.answered()  # a failed request may have reached the receiver too
