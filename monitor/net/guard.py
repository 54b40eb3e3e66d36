"""The address guard: outbound HTTP never reaches the private network (SSRF).

A feed list, an article link or a redirect can point anywhere; a URL that reaches
127.0.0.1, the cloud metadata service at 169.254.169.254 or a 10.x host would let a
stranger probe the network newsmon runs in. So every address is checked where it
matters, on the address actually connected to:

* ``address_refusal`` — the pure rule: why an IP (and port) may not be reached, or None;
* ``url_refusal`` — before a request: scheme, and hosts that are IP literals in any form
  (``[::1]``, ``::ffff:127.0.0.1``, ``2130706433``, ``0x7f.1``);
* ``GuardedResolver`` — drops non-public addresses from DNS answers (a name that only
  resolves to private addresses fails with a clear error);
* ``GuardedSocketFactory`` — the last word: aiohttp hands it the exact socket address it
  is about to connect to, for names and literals alike, at every redirect hop.

Private addresses are reachable only through the explicit allowlist
(``MONITOR_FETCH_ALLOWLIST``; tests use it for loopback servers). Miniflux does the same
check in its dialer's Control callback (internal/reader/fetcher/request_builder.go).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598, carrier-grade NAT
NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: Hosts that look like a numeric IPv4 address to inet_aton ("2130706433", "0x7f.1", "127.1").
_NUMERIC_HOST = re.compile(r"^[0-9a-fA-Fx.]+$")
ALLOWED_SCHEMES = ("http", "https")


class BlockedAddress(OSError):
    """A connection the guard refused; aiohttp wraps it, ``refusal_in`` finds it again."""


@dataclass(frozen=True)
class AllowEntry:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    port: int | None = None

    def admits(self, ip: IPAddress, port: int | None) -> bool:
        return ip.version == self.network.version and ip in self.network and self.port in (None, port)


@dataclass(frozen=True)
class Allowlist:
    """Non-public addresses the operator explicitly lets through (empty in production)."""

    entries: tuple[AllowEntry, ...] = ()

    @classmethod
    def parse(cls, spec: str) -> Allowlist:
        """``"127.0.0.0/8, ::1, 127.0.0.1:8080, [::1]:8080"``: networks, addresses, address:port."""
        entries = []
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            port = None
            match = re.fullmatch(r"\[(?P<v6>[^\]]+)\](?::(?P<p6>\d+))?|(?P<v4>[^:]+):(?P<p4>\d+)", item)
            if match:
                item = match.group("v6") or match.group("v4")
                port_text = match.group("p6") or match.group("p4")
                port = int(port_text) if port_text else None
            try:
                network = ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"allowlist entry {item!r} is not an address or network: {exc}") from exc
            entries.append(AllowEntry(network, port))
        return cls(tuple(entries))

    def admits(self, ip: IPAddress, port: int | None) -> bool:
        return any(entry.admits(ip, port) for entry in self.entries)


NOTHING_ALLOWED = Allowlist()


@lru_cache(maxsize=16)
def allowlist(spec: str) -> Allowlist:
    """The parsed allowlist setting (parsed once per distinct value)."""
    return Allowlist.parse(spec)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _kind(ip: IPAddress) -> str | None:
    """Which non-public range ``ip`` is in, or None for a public unicast address."""
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.version == 6 and ip.is_site_local:
        return "site-local"
    if ip.version == 4 and ip in SHARED_ADDRESS_SPACE:
        return "shared address space (100.64.0.0/10)"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "not globally routable"
    return None


def address_refusal(address: str | IPAddress, port: int | None = None, allow: Allowlist = NOTHING_ALLOWED) -> str | None:
    """Why ``address`` (with ``port``) may not be connected to, or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0] if isinstance(address, str) else address)
    except ValueError:
        return f"{address!r} is not an IP address"
    candidates: list[IPAddress] = [ip]
    if ip.version == 6:
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            candidates = [embedded]  # judge ::ffff:127.0.0.1 as 127.0.0.1, for the allowlist too
    for candidate in candidates:
        kind = _kind(candidate)
        if kind and not allow.admits(candidate, port):
            shown = f"{ip}" if candidate == ip else f"{ip} ({candidate})"
            return f"address {shown} is {kind}"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The IP address a URL host stands for without DNS, in any form inet_aton accepts."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def url_refusal(url: str, allow: Allowlist = NOTHING_ALLOWED) -> str | None:
    """Why ``url`` may not be fetched before any connection is made, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"malformed URL: {exc}"
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        return f"scheme {scheme or '(none)'!r} is not fetched; only http and https are"
    host = parts.hostname or ""
    if not host:
        return "URL has no host"
    literal = literal_address(host)
    if literal is not None:
        port = port or (443 if scheme == "https" else 80)
        return address_refusal(literal, port, allow)
    return None


def refusal_in(exc: BaseException) -> str | None:
    """The guard's refusal behind an aiohttp connection error, if that is what it was."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, BlockedAddress):
            return str(current)
        os_error = getattr(current, "os_error", None)
        if isinstance(os_error, BlockedAddress):
            return str(os_error)
        current = current.__cause__ or current.__context__
    # aiohappyeyeballs folds several failed addresses into one OSError message.
    text = str(exc)
    marker = BlockedAddress.__name__
    return text if marker in text or "refused by the address guard" in text else None


class GuardedResolver(AbstractResolver):
    """DNS through aiohttp's default resolver, keeping only addresses the guard admits."""

    def __init__(self, allow: Allowlist, inner: AbstractResolver | None = None):
        self.allow = allow
        self.inner = inner or aiohttp.resolver.DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await self.inner.resolve(host, port, family)
        kept = [a for a in answers if address_refusal(a["host"], a["port"] or port, self.allow) is None]
        if not kept:
            reasons = sorted({address_refusal(a["host"], a["port"] or port, self.allow) or "" for a in answers})
            raise BlockedAddress(f"{host} refused by the address guard: {'; '.join(reasons)}")
        return kept

    async def close(self) -> None:
        await self.inner.close()


class GuardedSocketFactory:
    """aiohttp's socket factory: refuses the exact address a connection is about to use."""

    def __init__(self, allow: Allowlist):
        self.allow = allow

    def __call__(self, addr_info) -> socket.socket:
        family, type_, proto, _canonname, sockaddr = addr_info
        refusal = address_refusal(sockaddr[0], sockaddr[1], self.allow)
        if refusal:
            raise BlockedAddress(f"connection to {sockaddr[0]} port {sockaddr[1]} refused by the address guard: {refusal}")
        return socket.socket(family=family, type=type_, proto=proto)


def guarded_connector(allow: Allowlist, *, resolver: AbstractResolver | None = None, **kwargs) -> aiohttp.TCPConnector:
    """A TCPConnector whose every connection passes the guard (``resolver`` for tests' fake DNS)."""
    return aiohttp.TCPConnector(
        resolver=GuardedResolver(allow, resolver),
        socket_factory=GuardedSocketFactory(allow),
        **kwargs,
    )


def describe(allow: Allowlist) -> Iterable[str]:
    """The allowlist as text, for the start-up log."""
    for entry in allow.entries:
        yield f"{entry.network}" + (f" port {entry.port}" if entry.port else "")
