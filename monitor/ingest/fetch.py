"""Fetching: our own HTTP client for feeds and article pages, so the limits are ours.

Every fetch has a total deadline (plus connect and read timeouts), a User-Agent, a
conditional GET when we have an ETag or Last-Modified, a cap on the body (counted after
decompression, so a gzip bomb stops at the cap too), and redirects followed by hand so
each hop is checked by the address guard and a permanent move is recognised. Every
connection goes through ``monitor.net.guard``: private, loopback and link-local addresses
are refused unless allowlisted.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver

from monitor.net.guard import allowlist, guarded_connector, refusal_in, url_refusal
from monitor.settings import Settings

MAX_REDIRECTS = 5
PERMANENT = (301, 308)
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass
class FetchResult:
    """What one fetch produced; ``outcome`` is one of ``monitor.runtime.metrics.POLL_OUTCOMES``."""

    outcome: str
    url: str
    status: int = 0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    #: Where the resource now lives when every redirect hop was permanent (301/308).
    moved_to: str | None = None
    seconds: float = 0.0

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def make_session(settings: Settings, *, resolver: AbstractResolver | None = None) -> aiohttp.ClientSession:
    """One session per poller: connection reuse, the address guard, global and per-host limits.

    ``resolver`` replaces DNS (tests map a public-looking name to loopback with it); the
    guard still judges whatever address it returns.
    """
    connector = guarded_connector(
        allowlist(settings.fetch_allowlist),
        resolver=resolver,
        limit=settings.poll_concurrency,
        limit_per_host=settings.http_per_host_limit,
        ttl_dns_cache=300,
    )
    timeout = aiohttp.ClientTimeout(total=None, connect=settings.http_connect_timeout_s, sock_read=settings.http_read_timeout_s)
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        headers={"User-Agent": settings.user_agent, "Accept": FEED_ACCEPT},
        auto_decompress=True,
        trust_env=False,  # no proxy from the environment: the guard must see the real peer
    )


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str | None = None,
) -> FetchResult:
    """Fetch ``url`` within the total deadline; never raises for network or HTTP trouble."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(settings.http_timeout_s):
            result = await _fetch(session, url, settings, etag, last_modified, accept)
    except TimeoutError:
        result = FetchResult("timeout", url, error=f"no complete response within {settings.http_timeout_s:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        refusal = refusal_in(exc)
        if refusal:
            result = FetchResult("blocked", url, error=refusal)
        else:
            result = FetchResult("network_error", url, error=f"{type(exc).__name__}: {exc}")
    result.seconds = time.monotonic() - started
    return result


def _request_headers(etag: str | None, last_modified: str | None, accept: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    if accept:
        headers["Accept"] = accept
    return headers


async def _fetch(
    session: aiohttp.ClientSession,
    url: str,
    settings: Settings,
    etag: str | None,
    last_modified: str | None,
    accept: str | None,
) -> FetchResult:
    headers = _request_headers(etag, last_modified, accept)
    allow = allowlist(settings.fetch_allowlist)
    current, all_permanent = url, True
    for _hop in range(MAX_REDIRECTS + 1):
        # Checked before every hop: a redirect may point at file:, at 169.254.169.254 or
        # at a numeric host that never goes through DNS.
        refused = url_refusal(current, allow)
        if refused:
            return FetchResult("blocked", current, error=refused)
        async with session.get(current, headers=headers, allow_redirects=False) as response:
            if response.status in REDIRECTS and "Location" in response.headers:
                all_permanent = all_permanent and response.status in PERMANENT
                current = urljoin(current, response.headers["Location"])
                continue
            result = FetchResult(
                "ok", current, status=response.status, headers={k.lower(): v for k, v in response.headers.items()}
            )
            if current != url and all_permanent:
                result.moved_to = current
            if response.status == 304:
                result.outcome = "not_modified"
                return result
            if response.status >= 400 or response.status < 200:
                result.outcome = status_outcome(response.status)
                result.error = f"HTTP {response.status} {response.reason or ''}".strip()
                return result
            await _read_body(response, result, settings.max_body_bytes)
            return result
    return FetchResult("http_error", current, error=f"more than {MAX_REDIRECTS} redirects")


def status_outcome(status: int) -> str:
    """The poll outcome of an HTTP error status."""
    if status == 410:
        return "gone"
    if status == 429:
        return "rate_limited"
    return "http_error"


async def _read_body(response: aiohttp.ClientResponse, result: FetchResult, cap: int) -> None:
    declared = response.content_length
    if declared is not None and declared > cap:
        result.outcome = "too_large"
        result.error = f"Content-Length {declared} exceeds the {cap}-byte cap"
        return
    body = bytearray()
    # aiohttp decompresses in bounded steps, so counting here bounds memory too.
    async for chunk in response.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > cap:
            result.outcome = "too_large"
            result.error = f"body exceeds the {cap}-byte cap (after decompression)"
            return
    result.body = bytes(body)
