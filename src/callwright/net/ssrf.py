"""Address policy: which destinations an outbound request may reach.

`classify_address` names the special-purpose range an address belongs to (None for
global unicast). Addresses that embed an IPv4 address — IPv4-mapped (::ffff:a.b.c.d),
SIIT (::ffff:0:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) — are judged by the
embedded address, because that is where the packets end up. IPv4-compatible (::a.b.c.d),
Teredo and the other tunnelling and protocol ranges are refused outright.

`check_url` is the whole decision for one URL: strict parse, name rules, resolution
(once), and a verdict on *every* resolved address — one bad address refuses the URL, so
an attacker cannot mix a public and a private answer. The caller must connect only to
the addresses in the returned `CheckedTarget` (see `safe_client`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

from callwright.net.errors import DeliveryError, UnsafeReason, UnsafeURLError
from callwright.net.resolver import Resolver
from callwright.net.urls import IPAddress, TargetURL, parse_url

IPNetwork = IPv4Network | IPv6Network


def _table(*rows: tuple[str, UnsafeReason]) -> tuple[tuple[IPNetwork, UnsafeReason], ...]:
    return tuple((ip_network(cidr), reason) for cidr, reason in rows)


# Cloud instance-metadata and platform endpoints. Refused whatever the policy says:
# no flag or allow-list entry reaches them.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        IPv4Address("169.254.169.254"),  # AWS, GCP, Azure, OCI, DigitalOcean, OpenStack
        IPv4Address("169.254.170.2"),  # AWS ECS task metadata
        IPv4Address("169.254.169.253"),  # AWS VPC DNS
        IPv4Address("169.254.169.123"),  # AWS time sync
        IPv4Address("169.254.0.23"),  # Tencent Cloud
        IPv4Address("100.100.100.200"),  # Alibaba Cloud
        IPv4Address("168.63.129.16"),  # Azure WireServer (a public-range address)
        IPv6Address("fd00:ec2::254"),  # AWS IMDS over IPv6
        IPv6Address("fd00:ec2::253"),  # AWS DNS over IPv6
        IPv6Address("fd00:ec2::123"),  # AWS time sync over IPv6
    }
)
METADATA_HOSTNAMES: frozenset[str] = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.azure.com",
    }
)

# First match wins, so more specific rows come first.
_IPV4_TABLE = _table(
    ("0.0.0.0/8", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "private"),  # CGNAT; also where Tailscale lives
    ("169.254.0.0/16", "link_local"),
    ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
    ("192.0.2.0/24", "documentation"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("198.18.0.0/15", "benchmarking"),
    ("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # includes 255.255.255.255
)
_IPV6_TABLE = _table(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "reserved"),  # IPv4-compatible, deprecated
    ("64:ff9b:1::/48", "reserved"),  # local-use NAT64
    ("100::/64", "reserved"),  # discard-only
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("2001::/23", "reserved"),  # IETF protocol assignments, includes Teredo 2001::/32
    ("5f00::/16", "reserved"),  # SRv6 SIDs
    ("fc00::/7", "private"),
    ("fe80::/10", "link_local"),
    ("fec0::/10", "reserved"),  # deprecated site-local
    ("ff00::/8", "multicast"),
)
_MAPPED = IPv6Network("::ffff:0:0/96")
_SIIT = IPv6Network("::ffff:0:0:0/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")
_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")


def embedded_ipv4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries to its destination, if any."""
    if ip in _MAPPED or ip in _SIIT or ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIX_TO_FOUR:
        return IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    return None


def classify_address(ip: IPAddress) -> UnsafeReason | None:
    """The special-purpose category of `ip`, or None for a global unicast address."""
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if isinstance(ip, IPv6Address):
        inner = embedded_ipv4(ip)
        if inner is not None:
            return classify_address(inner)
        for net, reason in _IPV6_TABLE:
            if ip in net:
                return reason
        return None if ip in _GLOBAL_UNICAST_V6 else "reserved"
    for net, reason in _IPV4_TABLE:
        if ip in net:
            return reason
    # Backstop for anything the IANA registry adds that our table lacks.
    return None if ip.is_global else "reserved"


def connect_form(ip: IPAddress) -> IPAddress:
    """The address to dial: IPv4-mapped addresses are dialled as plain IPv4."""
    if isinstance(ip, IPv6Address) and ip in _MAPPED:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressPolicy:
    """Which non-public destinations are allowed.

    - `allow_loopback`: 127.0.0.0/8 and ::1 (the embedded single-machine default).
    - `allow_private`: RFC 1918, CGNAT 100.64/10 and IPv6 ULA (self-hosters' LANs).
    - `allowed_networks`: CIDRs allowed whatever their category.
    - `allow_http`: plain-text http URLs (Ringg endpoints may be http; an operator can
      require https).
    Link-local, multicast, unspecified, documentation and reserved ranges, and
    translated IPv6 forms (NAT64, 6to4, SIIT) of non-public IPv4 addresses, are allowed
    only through `allowed_networks`; cloud metadata addresses and names never are.
    """

    allow_loopback: bool = False
    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = field(default=())
    allow_http: bool = True

    @classmethod
    def production(cls) -> AddressPolicy:
        """Public destinations only."""
        return cls()

    @classmethod
    def embedded(cls) -> AddressPolicy:
        """The single-machine default: public destinations plus this machine."""
        return cls(allow_loopback=True)

    def refusal(self, ip: IPAddress) -> UnsafeReason | None:
        """Why `ip` may not be reached under this policy, or None if it may."""
        reason = classify_address(ip)
        if reason == "metadata":
            return reason
        target = connect_form(ip)
        if any(target.version == net.version and target in net for net in self.allowed_networks):
            return None
        if isinstance(target, IPv6Address) and embedded_ipv4(target) is not None:
            # NAT64/6to4/SIIT forms of loopback or LAN addresses are not where the
            # flags mean to allow; only their public forms pass.
            return reason
        if reason == "loopback" and self.allow_loopback:
            return None
        if reason == "private" and self.allow_private:
            return None
        return reason


@dataclass(frozen=True, slots=True)
class CheckedTarget:
    """A URL that passed the policy, with the only addresses it may be dialled at."""

    url: TargetURL
    addresses: tuple[IPAddress, ...]


def _name_refusal(host: str, policy: AddressPolicy) -> UnsafeReason | None:
    if host in METADATA_HOSTNAMES:
        return "metadata"
    # RFC 6761: these names are loopback wherever they resolve.
    if (host == "localhost" or host.endswith(".localhost")) and not policy.allow_loopback:
        return "loopback"
    return None


async def check_url(raw: str, *, policy: AddressPolicy, resolver: Resolver) -> CheckedTarget:
    """Parse, resolve (at most once) and vet `raw`.

    Raises `UnsafeURLError` when the URL or any address it resolves to is refused, and
    `DeliveryError("dns")` (from the resolver) when the name does not resolve.
    """
    url = parse_url(raw)
    return await check_target(url, policy=policy, resolver=resolver)


async def check_target(
    url: TargetURL, *, policy: AddressPolicy, resolver: Resolver
) -> CheckedTarget:
    """`check_url` for an already parsed URL."""
    if url.scheme == "http" and not policy.allow_http:
        raise UnsafeURLError("scheme", "plain http is disabled; use https")
    if url.ip is not None:
        addresses: Sequence[IPAddress] = (url.ip,)
    else:
        name_reason = _name_refusal(url.host, policy)
        if name_reason is not None:
            raise UnsafeURLError(name_reason, f"host name {url.host!r} is refused")
        addresses = await resolver.resolve(url.host, url.port)
    checked: list[IPAddress] = []
    for ip in addresses:
        reason = policy.refusal(ip)
        if reason is not None:
            raise UnsafeURLError(reason, f"{url.host!r} resolves to a {reason} address")
        dial = connect_form(ip)
        if dial not in checked:
            checked.append(dial)
    if not checked:
        raise DeliveryError("dns", retryable=True, detail=f"{url.host!r} has no addresses")
    return CheckedTarget(url=url, addresses=tuple(checked))
