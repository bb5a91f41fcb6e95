"""SIP addresses: URIs (``sip:user@host:port;params``), name-addr headers and Via values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from callwright.sip.message import SipParseError

_URI = re.compile(
    r"^(?P<scheme>sips?|tel):(?:(?P<user>[^@;?]+)@)?(?P<host>\[[0-9a-fA-F:.]+\]|[^:;?>]+)"
    r"(?::(?P<port>\d{1,5}))?(?P<params>;[^?]*)?(?P<headers>\?.*)?$"
)


def parse_params(text: str) -> dict[str, str]:
    """``;a=b;c`` → {"a": "b", "c": ""} (names lower-cased)."""
    out: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if part:
            k, _, v = part.partition("=")
            out[k.strip().lower()] = v.strip().strip('"')
    return out


def format_params(params: dict[str, str]) -> str:
    return "".join(f";{k}={v}" if v else f";{k}" for k, v in params.items())


@dataclass(frozen=True, slots=True)
class SipUri:
    host: str
    user: str | None = None
    port: int | None = None
    scheme: str = "sip"
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> SipUri:
        m = _URI.match(text.strip())
        if m is None:
            raise SipParseError(f"bad URI {text[:80]!r}")
        port = int(m.group("port")) if m.group("port") else None
        if port is not None and not 0 < port < 65536:
            raise SipParseError("bad port in URI")
        return cls(
            host=m.group("host"),
            user=m.group("user"),
            port=port,
            scheme=m.group("scheme"),
            params=parse_params(m.group("params") or ""),
        )

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}:{user}{self.host}{port}{format_params(self.params)}"

    def address(self, default_port: int = 5060) -> tuple[str, int]:
        """Where to send requests for this URI (no DNS SRV: host and port as written)."""
        return self.host.strip("[]"), self.port or default_port


@dataclass(frozen=True, slots=True)
class NameAddr:
    """``"Display" <uri>;tag=x`` as in From, To, Contact, Route, Refer-To."""

    uri: SipUri
    display: str = ""
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> NameAddr:
        text = text.strip()
        if "<" in text:
            display, _, rest = text.partition("<")
            uri, close, params = rest.partition(">")
            if not close:
                raise SipParseError("unclosed <")
            return cls(SipUri.parse(uri), display.strip().strip('"'), parse_params(params))
        uri, _, params = text.partition(";")
        return cls(SipUri.parse(uri), "", parse_params(params))

    @property
    def tag(self) -> str | None:
        return self.params.get("tag") or None

    def with_tag(self, tag: str) -> NameAddr:
        return NameAddr(self.uri, self.display, {**self.params, "tag": tag})

    def __str__(self) -> str:
        display = f'"{self.display}" ' if self.display else ""
        return f"{display}<{self.uri}>{format_params(self.params)}"


@dataclass(frozen=True, slots=True)
class Via:
    transport: str
    host: str
    port: int | None
    params: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> Via:
        proto, _, rest = text.strip().partition(" ")
        parts = proto.split("/")
        if len(parts) != 3 or parts[0].upper() != "SIP":
            raise SipParseError("bad Via")
        sent_by, _, params = rest.strip().partition(";")
        sent_by = sent_by.strip()
        if sent_by.startswith("["):
            host, _, tail = sent_by[1:].partition("]")
            port = tail.lstrip(":")
        else:
            host, _, port = sent_by.partition(":")
        if not host:
            raise SipParseError("bad Via host")
        if port and not port.isdigit():
            raise SipParseError("bad Via port")
        return cls(parts[2].upper(), host, int(port) if port else None, parse_params(params))

    @property
    def branch(self) -> str:
        return self.params.get("branch", "")

    def reply_address(self, source: tuple[str, int]) -> tuple[str, int]:
        """Where responses go (RFC 3261 §18.2.2 with RFC 3581 rport)."""
        if "rport" in self.params:
            return source
        host = self.params.get("received") or self.host
        return host.strip("[]"), self.port or 5060
