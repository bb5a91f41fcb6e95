"""Standard Webhooks signatures, cross-checked with the reference `standardwebhooks`."""

from __future__ import annotations

import base64
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from callwright.webhooks import (
    SignatureError,
    SigningError,
    generate_secret,
    sign,
    signature_headers,
    verify,
)
from callwright.webhooks.signing import decode_secret


def test_generate_secret_format() -> None:
    secrets = {generate_secret() for _ in range(20)}
    assert len(secrets) == 20
    for s in secrets:
        assert s.startswith("whsec_")
        assert len(base64.b64decode(s[6:])) == 32
    assert len(decode_secret(generate_secret(n_bytes=64))) == 64
    with pytest.raises(SigningError):
        generate_secret(n_bytes=8)


@settings(max_examples=60, deadline=None)
@given(
    body=st.text(max_size=500),
    msg_id=st.from_regex(r"[A-Za-z0-9_\-:]{1,40}", fullmatch=True),
)
def test_reference_library_verifies_our_headers(body: str, msg_id: str) -> None:
    secret = generate_secret()
    now = int(time.time())
    data = body.encode()
    headers = signature_headers(secret, msg_id=msg_id, timestamp_s=now, body=data)
    # The reference verifier raises on any mismatch; json_parse=False as bodies are text.
    Webhook(secret).verify(data, headers, json_parse=False)
    assert verify(secret, headers=headers, body=data) == msg_id


def test_reference_signatures_verify_with_ours() -> None:
    secret = generate_secret()
    now = int(time.time())
    from datetime import UTC, datetime

    ref = Webhook(secret).sign("msg_1", datetime.fromtimestamp(now, UTC), '{"a": 1}')
    assert ref == sign(secret, msg_id="msg_1", timestamp_s=now, body=b'{"a": 1}')
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(now), "webhook-signature": ref}
    assert verify(secret, headers=headers, body=b'{"a": 1}') == "msg_1"


def test_rotation_signs_with_every_secret() -> None:
    old, new = generate_secret(), generate_secret()
    now = int(time.time())
    body = b'{"event_type":"call_completed"}'
    headers = signature_headers([old, new], msg_id="evt_9", timestamp_s=now, body=body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for s in (old, new):
        Webhook(s).verify(body, headers)
        verify(s, headers=headers, body=body)
    # A receiver holding both secrets accepts a message signed with either one.
    single = signature_headers(new, msg_id="evt_9", timestamp_s=now, body=body)
    verify([old, new], headers=single, body=body)
    stranger = generate_secret()
    with pytest.raises(WebhookVerificationError):
        Webhook(stranger).verify(body, headers)
    with pytest.raises(SignatureError):
        verify(stranger, headers=headers, body=body)


def _tampered(headers: dict[str, str], **changes: str) -> dict[str, str]:
    out = dict(headers)
    out.update({k.replace("_", "-"): v for k, v in changes.items()})
    return out


def test_tampering_is_detected_by_both() -> None:
    secret = generate_secret()
    now = int(time.time())
    body = b'{"call_id":"c1","status":"completed"}'
    good = signature_headers(secret, msg_id="evt_1", timestamp_s=now, body=body)
    sig = good["webhook-signature"]
    flipped = sig[:-5] + ("A" if sig[-5] != "A" else "B") + sig[-4:]
    cases: list[tuple[dict[str, str], bytes]] = [
        (good, body.replace(b"completed", b"failed")),
        (_tampered(good, webhook_id="evt_2"), body),
        (_tampered(good, webhook_timestamp=str(now - 1)), body),
        (_tampered(good, webhook_signature=flipped), body),
        (_tampered(good, webhook_signature="v2," + sig[3:]), body),
        (_tampered(good, webhook_signature="v1,not-base64!!"), body),
        ({k: v for k, v in good.items() if k != "webhook-id"}, body),
    ]
    for headers, data in cases:
        # The reference raises binascii.Error (a ValueError) on undecodable base64.
        with pytest.raises((WebhookVerificationError, ValueError)):
            Webhook(secret).verify(data, headers)
        with pytest.raises(SignatureError):
            verify(secret, headers=headers, body=data)


def test_unknown_versions_are_skipped() -> None:
    secret = generate_secret()
    now = int(time.time())
    good = signature_headers(secret, msg_id="evt_1", timestamp_s=now, body=b"{}")
    headers = dict(good)
    headers["webhook-signature"] = "v1a,AAAA " + good["webhook-signature"]
    assert verify(secret, headers=headers, body=b"{}") == "evt_1"


def test_timestamp_tolerance() -> None:
    secret = generate_secret()
    now = int(time.time())
    body = b"{}"
    for offset, message in ((-600, "timestamp too old"), (600, "timestamp too new")):
        headers = signature_headers(secret, msg_id="evt_1", timestamp_s=now + offset, body=body)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body, headers)
        with pytest.raises(SignatureError) as info:
            verify(secret, headers=headers, body=body)
        assert info.value.reason == message
        # A wider tolerance or a matching clock accepts it.
        verify(secret, headers=headers, body=body, tolerance_s=900)
        verify(secret, headers=headers, body=body, now_s=now + offset)
    headers = signature_headers(secret, msg_id="evt_1", timestamp_s=now - 299, body=body)
    verify(secret, headers=headers, body=body, now_s=now)


def test_bad_secrets_and_ids() -> None:
    with pytest.raises(SigningError):
        sign("nope", msg_id="a", timestamp_s=1, body=b"")
    with pytest.raises(SigningError):
        sign("whsec_!!!!", msg_id="a", timestamp_s=1, body=b"")
    with pytest.raises(SigningError):
        sign("whsec_" + base64.b64encode(b"short").decode(), msg_id="a", timestamp_s=1, body=b"")
    for bad in ("", "a.b", "a b", "a\nb", "x" * 256):
        with pytest.raises(SigningError):
            sign(generate_secret(), msg_id=bad, timestamp_s=1, body=b"")
    with pytest.raises(SigningError):
        signature_headers([], msg_id="a", timestamp_s=1, body=b"")
