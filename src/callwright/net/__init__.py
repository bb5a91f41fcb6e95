"""Outbound HTTP to user-supplied URLs: strict parsing, address policy, SSRF-safe client."""

from callwright.net.errors import DeliveryError, NetError, UnsafeReason, UnsafeURLError
from callwright.net.resolver import Resolver, StaticResolver, SystemResolver
from callwright.net.safe_client import ClientLimits, SafeHTTPClient, SafeResponse
from callwright.net.ssrf import AddressPolicy, CheckedTarget, check_url, classify_address
from callwright.net.urls import TargetURL, parse_url

__all__ = [
    "AddressPolicy",
    "CheckedTarget",
    "ClientLimits",
    "DeliveryError",
    "NetError",
    "Resolver",
    "SafeHTTPClient",
    "SafeResponse",
    "StaticResolver",
    "SystemResolver",
    "TargetURL",
    "UnsafeReason",
    "UnsafeURLError",
    "check_url",
    "classify_address",
    "parse_url",
]
