"""Outbound destination check: sinks never POST to private, loopback or link-local hosts.

A webhook URL comes from configuration, but the name it points to is resolved at send
time, so the check sits in the resolver aiohttp connects through: every address a name
resolves to is checked, and only checked addresses are handed to the connector (no gap
for a DNS answer that changes between a check and the connect). ``allow`` lists the
networks an operator explicitly trusts (tests allow 127.0.0.0/8).

The poller hardening work (issue 6) may bring its own SSRF guard; this module is small
on purpose so the two can be merged.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Iterable

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class DestinationBlocked(OSError):
    """The destination resolves to an address that is not allowed."""


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``["127.0.0.0/8", "10.1.2.3"]`` as networks; raises ValueError on a bad entry."""
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def blocked_reason(address: str, allow: tuple[Network, ...] = ()) -> str | None:
    """Why ``address`` may not be contacted, or None when it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:  # ::ffff:10.0.0.1 is 10.0.0.1
        ip = mapped
    if any(ip in network for network in allow if network.version == ip.version):
        return None
    for label, hit in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
    ):
        if hit:
            return f"{label} address {ip}"
    return None


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that drops every address ``blocked_reason`` refuses."""

    def __init__(self, allow: tuple[Network, ...] = (), inner: AbstractResolver | None = None):
        self.allow = allow
        self.inner = inner or DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self.inner.resolve(host, port, family)
        reasons = [blocked_reason(result["host"], self.allow) for result in results]
        allowed = [result for result, reason in zip(results, reasons) if reason is None]
        if not allowed:
            raise DestinationBlocked(f"destination {host} blocked: {reasons[0] if reasons else 'no address'}")
        return allowed

    async def close(self) -> None:
        await self.inner.close()
