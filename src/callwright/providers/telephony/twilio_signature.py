"""Signatures at the Twilio boundary: Twilio's on its webhooks, ours on media-stream tokens.

Twilio signs every webhook (status callbacks, the incoming-call request) with the account's
auth token (https://www.twilio.com/docs/usage/security#validating-requests): take the full
URL Twilio requested (scheme, host, path and query string), append every POST parameter
sorted by name as ``name`` + ``value`` with no separators, HMAC-SHA1 the result with the
auth token and base64 it; the ``X-Twilio-Signature`` header carries the result. (Twilio's
helper libraries sort repeated names by value too; so do we.)

A media token names one of our calls and expires; it travels in the TwiML we hand Twilio
and comes back on the Media Streams WebSocket. It is signed like recording URLs are
(:mod:`callwright.storage.recordings`: HMAC-SHA256 over ``id.expires`` with the platform
secret), under its own label so that neither signature can stand in for the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable

SIGNATURE_HEADER = "X-Twilio-Signature"
_TOKEN_LABEL = b"twilio-media"


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The ``X-Twilio-Signature`` Twilio sends for a POST of ``params`` to ``url``."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def valid_twilio_signature(
    auth_token: str, url: str, params: Iterable[tuple[str, str]], signature: str | None
) -> bool:
    if not signature or not signature.isascii():
        return False
    expected = twilio_signature(auth_token, url, params)
    return hmac.compare_digest(expected, signature)


class MediaTokens:
    """Issues and checks the expiring tokens that admit a Media Stream to one call."""

    def __init__(self, *, secret: bytes, lifetime_s: float = 300.0) -> None:
        self._secret = secret
        self.lifetime_s = lifetime_s

    def _signature(self, call_id: str, expires: int) -> str:
        message = _TOKEN_LABEL + f".{call_id}.{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def issue(self, call_id: str, *, now_s: float | None = None) -> str:
        expires = int((time.time() if now_s is None else now_s) + self.lifetime_s)
        return f"{call_id}.{expires}.{self._signature(call_id, expires)}"

    def verify(self, token: str | None, *, now_s: float | None = None) -> str | None:
        """The call id ``token`` names, or None if it is malformed, forged or expired."""
        if not token or not token.isascii() or len(token) > 512:
            return None
        parts = token.rsplit(".", 2)
        if len(parts) != 3:
            return None
        call_id, expires_text, signature = parts
        if not call_id or not expires_text.isdigit() or not signature:
            return None
        expires = int(expires_text)
        if expires < (time.time() if now_s is None else now_s):
            return None
        if not hmac.compare_digest(self._signature(call_id, expires), signature):
            return None
        return call_id
