"""HTTP digest authentication for SIP (RFC 2617, RFC 8760: MD5, SHA-256, ``-sess``, qop=auth)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from callwright.sip.message import SipParseError, split_commas

_HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


@dataclass(frozen=True, slots=True)
class Challenge:
    realm: str
    nonce: str
    algorithm: str = "MD5"
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False

    @classmethod
    def parse(cls, header: str) -> Challenge:
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "digest":
            raise SipParseError(f"unsupported auth scheme {scheme[:20]!r}")
        fields: dict[str, str] = {}
        for part in split_commas(rest):
            k, _, v = part.partition("=")
            fields[k.strip().lower()] = v.strip().strip('"')
        if "nonce" not in fields:
            raise SipParseError("digest challenge without nonce")
        qop = tuple(q.strip().lower() for q in fields.get("qop", "").split(",") if q.strip())
        return cls(
            realm=fields.get("realm", ""),
            nonce=fields["nonce"],
            algorithm=fields.get("algorithm", "MD5").upper(),
            qop=qop,
            opaque=fields.get("opaque"),
            stale=fields.get("stale", "").lower() == "true",
        )

    @property
    def supported(self) -> bool:
        base = self.algorithm.removesuffix("-SESS")
        return base in _HASHES and (not self.qop or "auth" in self.qop)


def pick(headers: list[str]) -> Challenge | None:
    """The strongest supported challenge among several (RFC 8760 §2.4: SHA-256 before MD5)."""
    parsed: list[Challenge] = []
    for h in headers:
        try:
            c = Challenge.parse(h)
        except SipParseError:
            continue
        if c.supported:
            parsed.append(c)
    order = ["SHA-512-256", "SHA-256", "MD5"]
    parsed.sort(key=lambda c: order.index(c.algorithm.removesuffix("-SESS")))
    return parsed[0] if parsed else None


def _h(algorithm: str, text: str) -> str:
    return hashlib.new(_HASHES[algorithm.removesuffix("-SESS")], text.encode()).hexdigest()


def authorization(
    challenge: Challenge,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    nc: int = 1,
    cnonce: str | None = None,
) -> str:
    """The Authorization / Proxy-Authorization header value answering ``challenge``."""
    alg = challenge.algorithm
    cnonce = cnonce or secrets.token_hex(8)
    ha1 = _h(alg, f"{username}:{challenge.realm}:{password}")
    if alg.endswith("-SESS"):
        ha1 = _h(alg, f"{ha1}:{challenge.nonce}:{cnonce}")
    ha2 = _h(alg, f"{method}:{uri}")
    parts = [
        f'username="{username}"',
        f'realm="{challenge.realm}"',
        f'nonce="{challenge.nonce}"',
        f'uri="{uri}"',
    ]
    if "auth" in challenge.qop:
        ncv = f"{nc:08x}"
        response = _h(alg, f"{ha1}:{challenge.nonce}:{ncv}:{cnonce}:auth:{ha2}")
        parts += [f'response="{response}"', "qop=auth", f"nc={ncv}", f'cnonce="{cnonce}"']
    else:
        parts.append(f'response="{_h(alg, f"{ha1}:{challenge.nonce}:{ha2}")}"')
    parts.append(f"algorithm={alg}")
    if challenge.opaque is not None:
        parts.append(f'opaque="{challenge.opaque}"')
    return "Digest " + ", ".join(parts)
