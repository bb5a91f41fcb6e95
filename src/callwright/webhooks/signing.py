"""Standard Webhooks signatures (symmetric, `v1`).

Spec: https://github.com/standard-webhooks/standard-webhooks — headers `webhook-id`,
`webhook-timestamp` (unix seconds) and `webhook-signature` = space-separated
`v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`. Secrets are `whsec_` +
base64 of 24–64 random bytes, one per endpoint. During rotation the sender signs with
every active secret, so receivers holding either one verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets as _secrets
import time
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
DEFAULT_TOLERANCE_S = 300
# Ids end up in the signed string "{id}.{ts}.{body}"; keeping '.' out of them keeps that
# string unambiguous, and the charset keeps them header-safe.
_MSG_ID_RE = re.compile(r"[A-Za-z0-9_\-:]{1,255}")


class SigningError(ValueError):
    """A secret or message id is unusable (a programming or configuration error)."""


class SignatureError(Exception):
    """Verification failed; `reason` is a short stable phrase."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def generate_secret(*, n_bytes: int = 32) -> str:
    """A new random endpoint secret, `whsec_<base64>`."""
    if not MIN_SECRET_BYTES <= n_bytes <= MAX_SECRET_BYTES:
        raise SigningError(f"secrets are {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes")
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(n_bytes)).decode("ascii")


def decode_secret(secret: str) -> bytes:
    """The key bytes of a `whsec_` secret; raises `SigningError` if malformed."""
    if not secret.startswith(SECRET_PREFIX):
        raise SigningError("secret must start with 'whsec_'")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise SigningError("secret is not valid base64") from None
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise SigningError(f"secret must decode to {MIN_SECRET_BYTES}-{MAX_SECRET_BYTES} bytes")
    return key


def _check_msg_id(msg_id: str) -> None:
    if not _MSG_ID_RE.fullmatch(msg_id):
        raise SigningError("message id must be 1-255 of [A-Za-z0-9_-:]")


def _mac(key: bytes, msg_id: str, timestamp_s: int, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp_s}.".encode("ascii") + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret: str, *, msg_id: str, timestamp_s: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `body` for message `msg_id` sent at `timestamp_s`."""
    _check_msg_id(msg_id)
    mac = _mac(decode_secret(secret), msg_id, timestamp_s, body)
    return "v1," + base64.b64encode(mac).decode("ascii")


def signature_headers(
    secrets: str | Sequence[str], *, msg_id: str, timestamp_s: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret given (rotation)."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys:
        raise SigningError("at least one secret is needed")
    sigs = " ".join(sign(s, msg_id=msg_id, timestamp_s=timestamp_s, body=body) for s in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp_s),
        "webhook-signature": sigs,
    }


def verify(
    secrets: str | Sequence[str],
    *,
    headers: Mapping[str, str],
    body: bytes,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now_s: float | None = None,
) -> str:
    """Check a received webhook; return its `webhook-id`.

    Passes when any `v1` signature in the header matches any of `secrets` and the
    timestamp is within `tolerance_s` of `now_s` (default: the wall clock), either side.
    Raises `SignatureError` otherwise; `SigningError` if a secret itself is malformed.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id")
    ts_text = lower.get("webhook-timestamp")
    sig_text = lower.get("webhook-signature")
    if not msg_id or not ts_text or not sig_text:
        raise SignatureError("missing webhook headers")
    if not ts_text.isascii() or not ts_text.isdigit():
        raise SignatureError("invalid timestamp")
    timestamp_s = int(ts_text)
    now = time.time() if now_s is None else now_s
    if timestamp_s < now - tolerance_s:
        raise SignatureError("timestamp too old")
    if timestamp_s > now + tolerance_s:
        raise SignatureError("timestamp too new")
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    expected = [_mac(decode_secret(s), msg_id, timestamp_s, body) for s in keys]
    for item in sig_text.split(" "):
        version, _, b64 = item.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            continue
        # compare_digest against every key, no early exit on the key loop's position.
        if any(hmac.compare_digest(given, mac) for mac in expected):
            return msg_id
    raise SignatureError("no matching signature")
