"""SSRF guard for the image fetcher: which addresses may be connected to, enforced where aiohttp connects."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class BlockedAddress(OSError):
    """A connection the policy refuses; an OSError so that aiohttp wraps it in its connector errors."""

    def __init__(self, host: str, address: str, why: str) -> None:
        super().__init__(f"{host} -> {address} is {why}")
        self.host, self.address, self.why = host, address, why


def address_class(ip: IPAddress) -> str | None:
    """Why an address is not a public one (loopback, private, ...), or None for a global unicast address."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:  # ::ffff:10.0.0.1 reaches 10.0.0.1
        ip = mapped
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),  # 169.254.169.254, the cloud metadata address, is here
        ("multicast", ip.is_multicast),
        ("cgnat", ip.version == 4 and ip in _CGNAT),
        ("private", ip.is_private),  # RFC 1918, IPv6 ULA fc00::/7, documentation and benchmark ranges
        ("reserved", ip.is_reserved),
        ("not-global", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


class AddressPolicy:
    """Public unicast addresses are allowed; others only when listed (CIDRs, addresses or host names)."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.hosts: set[str] = set()
        for entry in allow:
            entry = entry.strip()
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if not entry or "/" in entry or any(c.isspace() for c in entry):
                    raise ValueError(
                        f"allow_addresses: {entry!r} is neither a CIDR, an address nor a host"
                    ) from None
                self.hosts.add(entry.lower().rstrip("."))

    def host_allowed(self, host: str) -> bool:
        """True when the host name itself is listed (every address it resolves to is then allowed)."""
        return host.lower().rstrip(".") in self.hosts

    def refusal(self, address: str) -> str | None:
        """Why a connection to this address is refused, or None when it is allowed."""
        try:
            ip = ipaddress.ip_address(address.split("%")[0])  # drop an IPv6 zone id
        except ValueError:
            return "not an IP address"
        if any(ip in net for net in self.networks):
            return None
        why = address_class(ip)
        return f"{why} (not in allow_addresses)" if why else None

    def check_url_host(self, host: str) -> None:
        """Raise BlockedAddress for a literal-IP host the policy refuses (names are checked on resolution)."""
        bare = host.strip("[]")
        try:
            ipaddress.ip_address(bare.split("%")[0])
        except ValueError:
            return
        why = None if self.host_allowed(bare) else self.refusal(bare)
        if why:
            raise BlockedAddress(host, bare, why)


class GuardedResolver(AbstractResolver):
    """A resolver that returns only allowed addresses: aiohttp connects to exactly these, so no rebinding."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner or ThreadedResolver()
        self.approved: set[str] = set()  # addresses of listed host names, for the socket guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if self.policy.host_allowed(host):
            self.approved.update(r["host"] for r in results)
            return results
        allowed = [r for r in results if self.policy.refusal(r["host"]) is None]
        if not allowed:
            first = results[0]["host"] if results else "?"
            raise BlockedAddress(host, first, self.policy.refusal(first) or "unresolvable")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def guarded_connector(policy: AddressPolicy, **kwargs: Any) -> aiohttp.TCPConnector:
    """A TCPConnector that resolves through the policy and re-checks the address of every socket it opens."""
    resolver = GuardedResolver(policy)

    def socket_factory(addr_info: Any) -> socket.socket:
        # the last word: literal-IP URLs skip the resolver, so the connected address itself is checked here
        family, type_, proto, _, sockaddr = addr_info
        address = sockaddr[0]
        if address not in resolver.approved:
            why = policy.refusal(address)
            if why:
                raise BlockedAddress(address, address, why)
        return socket.socket(family=family, type=type_, proto=proto)

    return aiohttp.TCPConnector(resolver=resolver, socket_factory=socket_factory, **kwargs)


def blocked_in(exc: BaseException) -> BlockedAddress | None:
    """The BlockedAddress behind an aiohttp connector error, if that is what it is."""
    seen: BaseException | None = exc
    for _ in range(6):  # aiohttp wraps: ClientConnectorError(os_error=...) or __cause__ chains
        if seen is None:
            return None
        if isinstance(seen, BlockedAddress):
            return seen
        seen = getattr(seen, "os_error", None) or seen.__cause__
    return None
