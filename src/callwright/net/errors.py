"""Errors of the outbound-HTTP boundary.

Everything the safe client raises is one of these; transport exceptions (httpcore, anyio,
ssl, socket) never escape `callwright.net`.
"""

from __future__ import annotations

from typing import Literal

UnsafeReason = Literal[
    "malformed",  # not a URL we are willing to parse
    "scheme",  # not http/https
    "userinfo",  # user:password@ in the authority
    "port",  # port 0, out of range, or not allowed
    "host",  # not a valid host name or IP literal (includes IPv6 zone ids)
    "loopback",
    "private",  # RFC 1918, CGNAT 100.64/10, IPv6 ULA fc00::/7
    "link_local",
    "metadata",  # cloud instance-metadata addresses and names
    "multicast",
    "unspecified",  # 0.0.0.0/8, ::
    "documentation",
    "benchmarking",
    "reserved",  # everything else that is not global unicast
]

DeliveryCategory = Literal["dns", "connect", "timeout", "tls", "protocol"]


class NetError(Exception):
    """Base of every error raised by `callwright.net`."""


class UnsafeURLError(NetError):
    """The URL is refused by the address policy; nothing was sent.

    `reason` is a stable code (see `UnsafeReason`); `detail` is for humans and never
    contains response data.
    """

    def __init__(self, reason: UnsafeReason, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason: UnsafeReason = reason
        self.detail = detail


class DeliveryError(NetError):
    """The request could not be completed (no usable HTTP response).

    `retryable` says whether trying again later can help; `status_code` is set only when
    a response line was read before the failure.
    """

    def __init__(
        self,
        category: DeliveryCategory,
        *,
        retryable: bool,
        status_code: int | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(f"{category}: {detail}" if detail else category)
        self.category: DeliveryCategory = category
        self.retryable = retryable
        self.status_code = status_code
        self.detail = detail
