"""Fetching: our own HTTP client for feeds, so limits are ours, not feedparser's.

Every fetch has a total deadline, a User-Agent, a conditional GET when we have an ETag or
Last-Modified, a cap on the body (counted after decompression), and redirects followed
by hand so each hop can be checked and a permanent move recognised.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import aiohttp

from monitor.settings import Settings

MAX_REDIRECTS = 5
PERMANENT = (301, 308)
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024


@dataclass
class FetchResult:
    """What one fetch produced; ``outcome`` is one of ``monitor.metrics.POLL_OUTCOMES``."""

    outcome: str
    url: str
    status: int = 0
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    #: Where the feed now lives when every redirect hop was permanent (301/308).
    moved_to: str | None = None
    seconds: float = 0.0

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


def make_session(settings: Settings) -> aiohttp.ClientSession:
    """One session per poller: connection reuse, global and per-host concurrency limits."""
    connector = aiohttp.TCPConnector(limit=settings.poll_concurrency, limit_per_host=2, ttl_dns_cache=300)
    timeout = aiohttp.ClientTimeout(
        total=None, connect=settings.http_connect_timeout_s, sock_read=settings.http_timeout_s
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        headers={"User-Agent": settings.user_agent, "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"},
        auto_decompress=True,
    )


def _check_url(url: str) -> str | None:
    """Why ``url`` may not be fetched, or None."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        return f"scheme {scheme or '(none)'!r} is not fetched; only http and https are"
    return None


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchResult:
    """Fetch ``url`` within the total deadline; never raises for network or HTTP trouble."""
    started = time.monotonic()
    try:
        async with asyncio.timeout(settings.http_timeout_s):
            result = await _fetch(session, url, settings, etag, last_modified)
    except TimeoutError:
        result = FetchResult("timeout", url, error=f"no complete response within {settings.http_timeout_s:g} s")
    except aiohttp.ClientError as exc:
        result = FetchResult("network_error", url, error=f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        result = FetchResult("network_error", url, error=f"{type(exc).__name__}: {exc}")
    result.seconds = time.monotonic() - started
    return result


async def _fetch(
    session: aiohttp.ClientSession, url: str, settings: Settings, etag: str | None, last_modified: str | None
) -> FetchResult:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    current, all_permanent = url, True
    for _hop in range(MAX_REDIRECTS + 1):
        refused = _check_url(current)
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
                result.outcome = "http_error"
                result.error = f"HTTP {response.status} {response.reason or ''}".strip()
                return result
            declared = response.content_length
            if declared is not None and declared > settings.max_body_bytes:
                result.outcome = "too_large"
                result.error = f"Content-Length {declared} exceeds the {settings.max_body_bytes}-byte cap"
                return result
            body = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK):
                body += chunk
                if len(body) > settings.max_body_bytes:
                    result.outcome = "too_large"
                    result.error = f"body exceeds the {settings.max_body_bytes}-byte cap (after decompression)"
                    return result
            result.body = bytes(body)
            return result
    return FetchResult("http_error", current, error=f"more than {MAX_REDIRECTS} redirects")
