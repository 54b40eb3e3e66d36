"""The address guard: private, loopback and link-local targets are refused, wherever they hide.

With the allowlist off (production), every form of a non-public address is refused —
before a connection where the URL already says where it goes, and on the address
actually connected to otherwise. Loopback servers prove nothing reached them.
"""

import asyncio
import socket

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver

from monitor.ingest.fetch import fetch, make_session
from monitor.net.guard import (
    Allowlist,
    GuardedSocketFactory,
    address_refusal,
    literal_address,
    refusal_in,
    url_refusal,
)
from tests.support.loopback import LoopbackServer


class FakeDNS(AbstractResolver):
    """Maps public-looking names to loopback, as a hostile DNS answer would."""

    def __init__(self, answers: dict[str, str]):
        self.answers = answers

    async def resolve(self, host, port=0, family=socket.AF_INET):
        address = self.answers[host]
        return [{"hostname": host, "host": address, "port": port, "family": socket.AF_INET, "proto": 0, "flags": 0}]

    async def close(self):
        pass


def fetch_once(settings, url, resolver=None):
    async def go():
        async with make_session(settings, resolver=resolver) as session:
            return await fetch(session, url, settings)

    return asyncio.run(go())


@pytest.fixture
def strict(settings):
    """Production settings: the allowlist is empty."""
    return settings.with_overrides(fetch_allowlist="")


@pytest.fixture
def feed_server():
    async def feed(request):
        return web.Response(
            body=b"<rss version='2.0'><channel><title>t</title></channel></rss>", content_type="application/rss+xml"
        )

    with LoopbackServer(feed) as server:
        yield server


@pytest.mark.parametrize(
    "address, kind",
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.20.30.40", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "shared address space"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 wrapping 10.0.0.1
    ],
)
def test_non_public_addresses_are_refused_with_their_kind(address, kind):
    refusal = address_refusal(address, 80)
    assert refusal is not None and kind in refusal


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert address_refusal(address, 443) is None


def test_the_allowlist_admits_exactly_what_it_names():
    allow = Allowlist.parse("127.0.0.1:8080, 10.0.0.0/8, [::1]:9000")
    assert address_refusal("127.0.0.1", 8080, allow) is None
    assert address_refusal("127.0.0.1", 8081, allow) is not None
    assert address_refusal("127.0.0.2", 8080, allow) is not None
    assert address_refusal("10.9.9.9", 1, allow) is None
    assert address_refusal("::ffff:10.1.1.1", 1, allow) is None  # judged as the IPv4 address it is
    assert address_refusal("::1", 9000, allow) is None and address_refusal("::1", 9001, allow) is not None
    with pytest.raises(ValueError):
        Allowlist.parse("not-an-address")


@pytest.mark.parametrize(
    "host, address",
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("[::1]", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("example.org", None),
    ],
)
def test_every_literal_form_of_an_address_is_recognised(host, address):
    found = literal_address(host)
    assert (str(found) if found else None) == address


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/feed",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/feed",
        "http://[::ffff:127.0.0.1]/feed",
        "http://2130706433/feed",
        "http://0x7f.1/feed",
        "file:///etc/passwd",
        "ftp://example.org/feed",
        "gopher://example.org/",
    ],
)
def test_urls_naming_a_forbidden_target_are_refused_before_any_connection(strict, url):
    assert url_refusal(url) is not None
    result = fetch_once(strict, url)
    assert result.outcome == "blocked", result.error


def test_a_loopback_server_is_refused_and_never_receives_the_request(strict, feed_server):
    for url in (feed_server.url("/a"), f"http://2130706433:{feed_server.port}/b", f"http://localhost:{feed_server.port}/c"):
        result = fetch_once(strict, url)
        assert result.outcome == "blocked", (url, result.outcome, result.error)
    assert feed_server.requests == []


def test_the_same_server_is_reached_when_allowlisted(settings, feed_server):
    assert fetch_once(settings, feed_server.url("/ok")).outcome == "ok"
    assert feed_server.requests == ["/ok"]


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(strict, feed_server):
    """The guard judges the DNS answer, not the name."""
    dns = FakeDNS({"news.example.com": "127.0.0.1"})
    result = fetch_once(strict, f"http://news.example.com:{feed_server.port}/feed", resolver=dns)
    assert result.outcome == "blocked" and "127.0.0.1" in result.error and "loopback" in result.error
    assert feed_server.requests == []


def test_the_socket_factory_alone_refuses_the_address_about_to_be_connected(feed_server):
    """Even with a resolver that does no checking, the connection to loopback is never made."""

    async def go():
        connector = aiohttp.TCPConnector(
            resolver=FakeDNS({"news.example.com": "127.0.0.1"}), socket_factory=GuardedSocketFactory(Allowlist())
        )
        async with aiohttp.ClientSession(connector=connector) as session:
            with pytest.raises(aiohttp.ClientConnectorError) as caught:
                await session.get(f"http://news.example.com:{feed_server.port}/feed")
            return caught.value

    refusal = refusal_in(asyncio.run(go()))
    assert refusal and "refused by the address guard" in refusal and "loopback" in refusal
    assert feed_server.requests == []


def test_a_redirect_from_an_allowed_host_to_a_private_one_is_refused(settings, feed_server):
    """Server A is allowlisted (its port only); it redirects to B, to the metadata service, to file:."""
    targets = {
        "/to-b": feed_server.url("/secret"),
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-file": "file:///etc/passwd",
        "/to-decimal": f"http://2130706433:{feed_server.port}/secret",
    }

    async def redirect(request):
        raise web.HTTPFound(targets[request.path])

    with LoopbackServer(redirect) as server_a:
        only_a = settings.with_overrides(fetch_allowlist=f"127.0.0.1:{server_a.port}")
        for path in targets:
            result = fetch_once(only_a, server_a.url(path))
            assert result.outcome == "blocked", (path, result.outcome, result.error)
        assert sorted(server_a.requests) == sorted(targets)
    assert feed_server.requests == [], "the private server behind the redirect was never reached"
