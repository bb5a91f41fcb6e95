"""Name resolution for outbound requests, behind a one-method port.

The safe client resolves each host exactly once per request through a `Resolver` and
dials only the addresses it checked; making the resolver injectable lets tests point a
public-looking name at loopback, or change the answer between lookups (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping, Sequence
from ipaddress import ip_address
from typing import Protocol

from callwright.net.errors import DeliveryError
from callwright.net.urls import IPAddress


class Resolver(Protocol):
    """Resolves a host name to addresses; raises `DeliveryError("dns")` on failure."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        """All addresses of `host` for a TCP connection to `port` (never empty)."""
        ...


class SystemResolver:
    """The operating system's resolver (getaddrinfo, run off the event loop)."""

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (socket.gaierror, UnicodeError) as exc:
            raise DeliveryError("dns", retryable=True, detail=f"cannot resolve {host!r}") from exc
        out: list[IPAddress] = []
        for family, _type, _proto, _canon, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            # sockaddr[0] of a scoped IPv6 address may carry "%zone"; drop it, the
            # address itself is what the policy judges.
            ip = ip_address(str(sockaddr[0]).split("%", 1)[0])
            if ip not in out:
                out.append(ip)
        if not out:
            raise DeliveryError("dns", retryable=True, detail=f"{host!r} has no addresses")
        return out


class StaticResolver:
    """A hosts-file resolver: fixed answers, counted lookups.

    `answers[host]` is either one list of addresses (returned every time) or a list of
    lists (the n-th lookup gets the n-th list, the last one repeats) — the latter
    simulates DNS rebinding. Unknown names fail like NXDOMAIN.
    """

    def __init__(self, answers: Mapping[str, Sequence[str] | Sequence[Sequence[str]]]) -> None:
        self._rounds: dict[str, list[list[str]]] = {}
        for host, answer in answers.items():
            if answer and not isinstance(answer[0], str):
                self._rounds[host] = [list(r) for r in answer]
            else:
                self._rounds[host] = [[str(a) for a in answer]]
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> Sequence[IPAddress]:
        n = sum(1 for h in self.lookups if h == host)
        self.lookups.append(host)
        rounds = self._rounds.get(host)
        rows = rounds[min(n, len(rounds) - 1)] if rounds else []
        if not rows:
            raise DeliveryError("dns", retryable=True, detail=f"cannot resolve {host!r}")
        return [ip_address(a) for a in rows]
