"""Validation of subscriber-supplied custom headers.

Subscriptions carry headers to send to the endpoint (Ringg: usually an Authorization
token). We refuse names that would change how the message is framed or routed
(hop-by-hop, Host, Content-Length, Transfer-Encoding, proxy headers) or forge our own
signature headers, and any value that could split a header (CR, LF, NUL).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

FORBIDDEN_HEADER_NAMES: frozenset[str] = frozenset(
    {
        # hop-by-hop (RFC 9110 §7.6.1) and framing
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "expect",
        "host",
        "http2-settings",
        # ours: the receiver must be able to trust these
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
)
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}")
MAX_VALUE_CHARS = 4096
MAX_HEADERS = 32


class InvalidHeaderError(ValueError):
    """A custom header is refused; `name` is the offending header."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"header {name!r}: {reason}")
        self.name = name
        self.reason = reason


def validate_custom_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return `headers` unchanged if every one may be sent; raise `InvalidHeaderError`.

    Use it when a subscription is saved and again before sending.
    """
    if len(headers) > MAX_HEADERS:
        raise InvalidHeaderError("*", f"at most {MAX_HEADERS} custom headers")
    seen: set[str] = set()
    for name, value in headers.items():
        if not _TOKEN_RE.fullmatch(name):
            raise InvalidHeaderError(name, "not a valid header name")
        lname = name.lower()
        if lname in seen:
            raise InvalidHeaderError(name, "duplicate header name")
        seen.add(lname)
        if lname in FORBIDDEN_HEADER_NAMES or lname.startswith("proxy-"):
            raise InvalidHeaderError(name, "this header may not be set")
        if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS:
            raise InvalidHeaderError(name, "value must be a string of at most 4096 characters")
        if any(ch in "\r\n\0" for ch in value) or not all(
            ch == "\t" or (0x20 <= ord(ch) <= 0xFF and ord(ch) != 0x7F) for ch in value
        ):
            raise InvalidHeaderError(name, "value contains control characters")
    return dict(headers)
