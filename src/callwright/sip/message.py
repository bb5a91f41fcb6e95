"""SIP messages (RFC 3261 §7): parse datagrams into requests/responses and serialise them.

Parsing is strict about what the UA relies on and never raises anything but
:class:`SipParseError`: a malformed datagram is dropped, not a crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_MESSAGE_BYTES = 65_507  # the largest UDP payload
MAX_HEADERS = 128
COMPACT = {
    "v": "via",
    "f": "from",
    "t": "to",
    "i": "call-id",
    "m": "contact",
    "l": "content-length",
    "c": "content-type",
    "k": "supported",
    "s": "subject",
    "e": "content-encoding",
    "r": "refer-to",
    "o": "event",
    "x": "session-expires",
    "b": "referred-by",
}
CANONICAL = {
    "via": "Via",
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "content-length": "Content-Length",
    "content-type": "Content-Type",
    "max-forwards": "Max-Forwards",
    "record-route": "Record-Route",
    "min-se": "Min-SE",
}
REQUIRED = ("via", "from", "to", "call-id", "cseq")
# Headers whose comma-separated values are separate entries (RFC 3261 §7.3.1).
MULTI = frozenset({"via", "route", "record-route", "contact", "allow", "supported", "require"})
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
_STATUS = re.compile(r"^SIP/2\.0 ([1-6]\d\d) ?(.*)$")
_REQUEST = re.compile(r"^([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP/2\.0$")


class SipParseError(ValueError):
    """The datagram is not a SIP message we can act on."""


def canonical(name: str) -> str:
    low = name.lower()
    low = COMPACT.get(low, low)
    return CANONICAL.get(low, "-".join(p.capitalize() for p in low.split("-")))


@dataclass(slots=True)
class Headers:
    """Ordered SIP headers; lookups are case-insensitive and understand compact names."""

    items: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str, default: str | None = None) -> str | None:
        key = canonical(name)
        for k, v in self.items:
            if k == key:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        key = canonical(name)
        out: list[str] = []
        for k, v in self.items:
            if k == key:
                out.extend(split_commas(v) if key.lower() in MULTI else [v])
        return out

    def add(self, name: str, value: str) -> None:
        self.items.append((canonical(name), value))

    def set(self, name: str, value: str) -> None:
        self.remove(name)
        self.add(name, value)

    def remove(self, name: str) -> None:
        key = canonical(name)
        self.items = [(k, v) for k, v in self.items if k != key]

    def copy(self) -> Headers:
        return Headers(list(self.items))


def split_commas(value: str) -> list[str]:
    """Split a header value at commas outside quotes and angle brackets."""
    parts: list[str] = []
    depth, quoted, start = 0, False, 0
    for i, ch in enumerate(value):
        if ch == '"' and (i == 0 or value[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch == "<":
            depth += 1
        elif not quoted and ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and not quoted and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return [p for p in parts if p]


@dataclass(slots=True)
class Request:
    method: str
    uri: str
    headers: Headers
    body: bytes = b""

    def start_line(self) -> str:
        return f"{self.method} {self.uri} SIP/2.0"


@dataclass(slots=True)
class Response:
    status: int
    reason: str
    headers: Headers
    body: bytes = b""

    def start_line(self) -> str:
        return f"SIP/2.0 {self.status} {self.reason}"


Message = Request | Response


def cseq(message: Message) -> tuple[int, str]:
    """The CSeq number and method (validated at parse time)."""
    raw = message.headers.get("CSeq") or ""
    num, _, method = raw.partition(" ")
    return int(num), method.strip()


def serialize(message: Message) -> bytes:
    lines = [message.start_line()]
    lines += [f"{k}: {v}" for k, v in message.headers.items if k != "Content-Length"]
    lines.append(f"Content-Length: {len(message.body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + message.body


def parse(data: bytes) -> Message:
    """Parse one datagram. Raises SipParseError for anything malformed or incomplete."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise SipParseError("message too large")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
        if not sep:
            raise SipParseError("no end of headers")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SipParseError("headers are not UTF-8") from exc
    if "\x00" in text:
        raise SipParseError("NUL in headers")
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0].strip()
    headers = _parse_headers(lines[1:])
    for name in REQUIRED:
        if headers.get(name) is None:
            raise SipParseError(f"missing {canonical(name)}")
    length = headers.get("Content-Length")
    if length is not None:
        if not length.strip().isdigit():
            raise SipParseError("bad Content-Length")
        n = int(length)
        if n > len(body):
            raise SipParseError("truncated body")
        body = body[:n]
    message: Message
    if m := _STATUS.match(start):
        message = Response(int(m.group(1)), m.group(2), headers, body)
    elif m := _REQUEST.match(start):
        message = Request(m.group(1).upper(), m.group(2), headers, body)
    else:
        raise SipParseError("bad start line")
    num, method = (headers.get("CSeq") or "").partition(" ")[::2]
    if not num.isdigit() or len(num) > 10 or not _TOKEN.match(method.strip() or "?"):
        raise SipParseError("bad CSeq")
    if isinstance(message, Request) and method.strip().upper() != message.method:
        raise SipParseError("CSeq method differs from request method")
    return message


def _parse_headers(lines: list[str]) -> Headers:
    headers = Headers()
    for line in lines:
        if not line:
            continue
        if line[0] in " \t":
            if not headers.items:
                raise SipParseError("continuation before any header")
            k, v = headers.items[-1]
            headers.items[-1] = (k, f"{v} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not _TOKEN.match(name):
            raise SipParseError("bad header line")
        headers.add(name, value.strip())
        if len(headers.items) > MAX_HEADERS:
            raise SipParseError("too many headers")
    return headers
