"""Strict parsing of user-supplied http(s) URLs.

We parse once, here, and hand the *parsed parts* to the transport, so no second parser
can disagree about which host is meant (the classic SSRF parser-differential bug).
Anything ambiguous is refused rather than normalised: userinfo, backslashes, control
characters, whitespace, percent-encoded hosts, IPv6 zone ids, empty or zero ports.

Host names whose last label is numeric are IPv4 literals (WHATWG "ends in a number"
rule) and are decoded the way `inet_aton`/browsers do — decimal, octal (`0177`), hex
(`0x7f`) and 1–4 part short forms (`127.1`) — so `0x7f.1` is checked as 127.0.0.1
instead of being handed to a resolver that would decode it after our check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from callwright.net.errors import UnsafeURLError

IPAddress = IPv4Address | IPv6Address

MAX_URL_CHARS = 2048
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?")
_NUMERIC_LABEL_RE = re.compile(r"(?:0[xX][0-9A-Za-z]*|[0-9]+)")
# RFC 3986 characters allowed verbatim in path and query (plus '%' for escapes).
_TARGET_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%"
)


@dataclass(frozen=True, slots=True)
class TargetURL:
    """A parsed, canonical http(s) URL.

    `host` is a lower-case ASCII DNS name (no trailing dot) or the canonical text of
    `ip` when the URL named an IP literal. `target` is the request target (path and
    query, always starting with "/"); the fragment is dropped.
    """

    scheme: str
    host: str
    ip: IPAddress | None
    port: int
    target: str

    @property
    def host_header(self) -> str:
        """The Host header value: brackets for IPv6, port only when not the default."""
        host = f"[{self.host}]" if isinstance(self.ip, IPv6Address) else self.host
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host_header}{self.target}"


def parse_url(raw: str) -> TargetURL:
    """Parse `raw` strictly; raise `UnsafeURLError` for anything we will not send to.

    Only the scheme check depends on policy-free rules (http/https); address checks
    happen later in `callwright.net.ssrf`.
    """
    if len(raw) > MAX_URL_CHARS:
        raise UnsafeURLError("malformed", "URL too long")
    for ch in raw:
        if ord(ch) <= 0x20 or ord(ch) == 0x7F:
            raise UnsafeURLError("malformed", "control character or whitespace in URL")
        if ch == "\\":
            raise UnsafeURLError("malformed", "backslash in URL")
    m = _SCHEME_RE.match(raw)
    if m is None:
        raise UnsafeURLError("malformed", "no scheme")
    scheme = m.group(1).lower()
    if scheme not in _DEFAULT_PORTS:
        raise UnsafeURLError("scheme", f"scheme {scheme!r} is not http or https")
    rest = raw[m.end() :]
    if not rest.startswith("//"):
        raise UnsafeURLError("malformed", "expected '//' after the scheme")
    rest = rest[2:]
    end = len(rest)
    for sep in "/?#":
        idx = rest.find(sep)
        if idx != -1:
            end = min(end, idx)
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        raise UnsafeURLError("userinfo", "credentials in the URL authority are not allowed")
    host_text, port_text = _split_authority(authority)
    port = _parse_port(port_text, scheme)
    host, ip = _parse_host(host_text)
    return TargetURL(scheme=scheme, host=host, ip=ip, port=port, target=_parse_target(tail))


def _split_authority(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        close = authority.find("]")
        if close == -1:
            raise UnsafeURLError("malformed", "unterminated IPv6 literal")
        after = authority[close + 1 :]
        if after and not after.startswith(":"):
            raise UnsafeURLError("malformed", "junk after IPv6 literal")
        return authority[: close + 1], (after[1:] if after else None)
    if authority.count(":") > 1:
        raise UnsafeURLError("malformed", "IPv6 literals must be bracketed")
    if ":" in authority:
        host, port = authority.split(":")
        return host, port
    return authority, None


def _parse_port(text: str | None, scheme: str) -> int:
    if text is None:
        return _DEFAULT_PORTS[scheme]
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise UnsafeURLError("port", "port must be 1-65535")
    port = int(text)
    if not 1 <= port <= 65535:
        raise UnsafeURLError("port", "port must be 1-65535")
    return port


def _parse_host(text: str) -> tuple[str, IPAddress | None]:
    if not text:
        raise UnsafeURLError("host", "empty host")
    if "%" in text:
        # Covers percent-encoded hosts and IPv6 zone ids (fe80::1%25eth0).
        raise UnsafeURLError("host", "percent signs and IPv6 zone ids are not allowed in hosts")
    if text.startswith("["):
        try:
            ip6 = IPv6Address(text[1:-1])
        except ValueError:
            raise UnsafeURLError("host", "invalid IPv6 literal") from None
        return str(ip6), ip6
    name = text
    if not name.isascii():
        # IDNA maps fullwidth digits, circled letters and ideographic full stops to
        # ASCII (１２７。０。０。１ -> 127.0.0.1), so the checks below see what DNS sees.
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeURLError("host", "host is not a valid internationalised name") from None
    name = name[:-1].lower() if name.endswith(".") else name.lower()
    if not name:
        raise UnsafeURLError("host", "empty host")
    if _NUMERIC_LABEL_RE.fullmatch(name.rsplit(".", 1)[-1]):
        ip4 = parse_ipv4_loose(name)
        if ip4 is None:
            raise UnsafeURLError("host", "host ends in a number but is not an IPv4 address")
        return str(ip4), ip4
    if len(name) > 253 or not all(_LABEL_RE.fullmatch(label) for label in name.split(".")):
        raise UnsafeURLError("host", "invalid host name")
    return name, None


def parse_ipv4_loose(text: str) -> IPv4Address | None:
    """Decode every IPv4 spelling `inet_aton` and browsers accept; None if it is not one.

    1–4 dot-separated parts, each decimal, octal (leading 0) or hex (0x); the last part
    fills the remaining bytes (so `127.1` is 127.0.0.1 and `2130706433` is 127.0.0.1).
    """
    parts = text.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        value = _parse_ipv4_number(part)
        if value is None:
            return None
        numbers.append(value)
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        return None
    value = numbers[-1]
    for i, n in enumerate(numbers[:-1]):
        value += n << (8 * (3 - i))
    return IPv4Address(value)


def _parse_ipv4_number(part: str) -> int | None:
    if not part or not part.isascii():
        return None
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
        if digits == "":
            return 0
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    allowed = "0123456789abcdefABCDEF"[: 10 if base == 10 else (8 if base == 8 else 22)]
    if not digits or any(ch not in allowed for ch in digits):
        return None
    return int(digits, base)


def _parse_target(tail: str) -> str:
    target = tail.split("#", 1)[0]
    if not target.startswith("/"):
        target = "/" + target
    out: list[str] = []
    for ch in target:
        if ch in _TARGET_SAFE:
            out.append(ch)
        else:
            # Non-ASCII or unsafe ASCII: send it percent-encoded, never raw.
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)
