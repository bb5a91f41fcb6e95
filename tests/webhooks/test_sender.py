"""deliver() end to end against a real receiver on loopback."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from standardwebhooks import Webhook

from callwright.net import AddressPolicy, ClientLimits, SafeHTTPClient, StaticResolver
from callwright.webhooks import (
    Disable,
    Done,
    GiveUp,
    InvalidHeaderError,
    RetryAt,
    deliver,
    generate_secret,
    validate_custom_headers,
    verify,
)
from callwright.webhooks.sender import USER_AGENT, DeliveryAttempt, safe_snippet
from callwright.webhooks.testing import ReceivedRequest, RecordingReceiver, ScriptedResponse

BODY = json.dumps(
    {"event_type": "call_completed", "call_id": "c-1", "status": "completed", "transcript": []}
).encode()


def loopback_client(*, total_timeout_s: float = 30.0) -> SafeHTTPClient:
    return SafeHTTPClient(
        policy=AddressPolicy.embedded(), limits=ClientLimits(total_timeout_s=total_timeout_s)
    )


async def test_delivers_signed_message() -> None:
    secret = generate_secret()
    async with RecordingReceiver() as rx:
        attempt = await deliver(
            rx.url("/ringg"),
            {"Authorization": "Bearer receiver-token", "X-Env": "test"},
            BODY,
            secret,
            "evt_123",
            client=loopback_client(),
        )
    assert isinstance(attempt.next_action, Done)
    assert attempt.status_code == 200
    assert attempt.response_snippet == "ok"
    assert attempt.error is None and attempt.error_category is None
    assert attempt.latency_ms > 0
    assert attempt.peer == "127.0.0.1"
    [req] = rx.requests
    assert req.method == "POST" and req.target == "/ringg"
    assert req.headers["content-type"] == "application/json"
    assert req.headers["user-agent"] == USER_AGENT
    assert req.headers["authorization"] == "Bearer receiver-token"
    assert req.headers["x-env"] == "test"
    assert req.headers["webhook-id"] == "evt_123"
    assert abs(int(req.headers["webhook-timestamp"]) - time.time()) < 60
    assert req.body == BODY
    # The receiver's view, checked by the reference implementation and by ours.
    assert Webhook(secret).verify(req.body, req.headers)["call_id"] == "c-1"
    assert verify(secret, headers=req.headers, body=req.body) == "evt_123"


async def test_custom_content_type_and_put() -> None:
    async with RecordingReceiver() as rx:
        attempt = await deliver(
            rx.url(),
            {"Content-Type": "application/json; charset=utf-8"},
            BODY,
            [generate_secret(), generate_secret()],
            "evt_1",
            client=loopback_client(),
            method="put",
        )
    assert isinstance(attempt.next_action, Done)
    assert rx.requests[0].method == "PUT"
    assert rx.requests[0].headers["content-type"] == "application/json; charset=utf-8"
    assert len(rx.requests[0].headers["webhook-signature"].split(" ")) == 2


Script = Callable[[ReceivedRequest], ScriptedResponse]


def _script(status: int, headers: tuple[tuple[str, str], ...] = (), body: bytes = b"") -> Script:
    def respond(_r: ReceivedRequest) -> ScriptedResponse:
        return ScriptedResponse(status=status, headers=headers, body=body)

    return respond


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def _attempt_against(
    status: int, headers: tuple[tuple[str, str], ...] = (), *, attempt: int = 1
) -> DeliveryAttempt:
    async with RecordingReceiver(respond=_script(status, headers, b"nope")) as rx:
        return await deliver(
            rx.url(),
            {},
            BODY,
            generate_secret(),
            "evt_1",
            client=loopback_client(),
            clock=lambda: NOW,
            rng=random.Random(5),
            attempt=attempt,
        )


async def test_410_disables() -> None:
    attempt = await _attempt_against(410)
    assert isinstance(attempt.next_action, Disable)
    assert attempt.status_code == 410 and attempt.response_snippet == "nope"


async def test_500_retries_on_schedule() -> None:
    attempt = await _attempt_against(500)
    assert isinstance(attempt.next_action, RetryAt)
    assert timedelta(seconds=9) <= attempt.next_action.at - NOW <= timedelta(seconds=11)
    assert attempt.error == "HTTP 500"
    later = await _attempt_against(503, attempt=4)
    assert isinstance(later.next_action, RetryAt)
    assert timedelta(minutes=4.5) <= later.next_action.at - NOW <= timedelta(minutes=5.5)
    last = await _attempt_against(500, attempt=12)
    assert isinstance(last.next_action, GiveUp)


async def test_429_honours_retry_after_seconds_and_date() -> None:
    attempt = await _attempt_against(429, (("Retry-After", "120"),))
    assert isinstance(attempt.next_action, RetryAt)
    assert attempt.next_action.at - NOW == timedelta(seconds=120)
    date = format_datetime(NOW + timedelta(hours=1), usegmt=True)
    attempt = await _attempt_against(503, (("Retry-After", date),))
    assert isinstance(attempt.next_action, RetryAt)
    assert attempt.next_action.at - NOW == timedelta(hours=1)
    attempt = await _attempt_against(429, (("Retry-After", "999999999"),))
    assert isinstance(attempt.next_action, RetryAt)
    assert attempt.next_action.at - NOW == timedelta(hours=24)


async def test_other_4xx_gives_up_and_408_retries() -> None:
    assert isinstance((await _attempt_against(404)).next_action, GiveUp)
    assert isinstance((await _attempt_against(401)).next_action, GiveUp)
    assert isinstance((await _attempt_against(408)).next_action, RetryAt)


async def test_redirect_is_a_failure_with_location() -> None:
    attempt = await _attempt_against(301, (("Location", "http://127.0.0.1:1/elsewhere"),))
    assert isinstance(attempt.next_action, RetryAt)
    assert attempt.location == "http://127.0.0.1:1/elsewhere"
    assert attempt.error is not None and "redirect not followed" in attempt.error


async def test_timeout_is_retried() -> None:
    slow = RecordingReceiver(respond=lambda _r: ScriptedResponse(delay_s=5.0))
    async with slow as rx:
        t0 = time.monotonic()
        attempt = await deliver(
            rx.url(),
            {},
            BODY,
            generate_secret(),
            "evt_1",
            client=loopback_client(total_timeout_s=0.3),
        )
        assert time.monotonic() - t0 < 2.0
    assert attempt.error_category == "timeout"
    assert attempt.status_code is None
    assert isinstance(attempt.next_action, RetryAt)


async def test_snippet_is_capped_and_sanitised() -> None:
    noisy = b"\x1b[31mred\x00" + "é".encode() + b"\xff" + b"y" * 5000
    async with RecordingReceiver(respond=_script(500, (), noisy)) as rx:
        attempt = await deliver(
            rx.url(), {}, BODY, generate_secret(), "evt_1", client=loopback_client()
        )
    assert len(attempt.response_snippet) <= 1024
    assert attempt.response_snippet.startswith("\ufffd[31mred\ufffdé\ufffdyyy")
    assert all(ch.isprintable() for ch in attempt.response_snippet)
    assert safe_snippet(b"a\nb\tc") == "a\nb\tc"


async def test_large_response_body_does_not_slow_delivery() -> None:
    async with RecordingReceiver(
        respond=lambda _r: ScriptedResponse(body_bytes=50 * 1024 * 1024)
    ) as rx:
        t0 = time.monotonic()
        attempt = await deliver(
            rx.url(), {}, BODY, generate_secret(), "evt_1", client=loopback_client()
        )
        elapsed = time.monotonic() - t0
    assert isinstance(attempt.next_action, Done)
    assert len(attempt.response_snippet) == 1024
    assert elapsed < 3.0


async def test_pins_the_checked_address() -> None:
    resolver = StaticResolver({"hooks.customer.test": [["127.0.0.1"], ["169.254.169.254"]]})
    client = SafeHTTPClient(policy=AddressPolicy.embedded(), resolver=resolver)
    async with RecordingReceiver() as rx:
        attempt = await deliver(
            f"http://hooks.customer.test:{rx.port}/x",
            {},
            BODY,
            generate_secret(),
            "evt_1",
            client=client,
        )
    assert isinstance(attempt.next_action, Done)
    assert resolver.lookups == ["hooks.customer.test"]
    assert rx.requests[0].headers["host"] == f"hooks.customer.test:{rx.port}"


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "evil.test"},
        {"Content-Length": "0"},
        {"Transfer-Encoding": "chunked"},
        {"Connection": "close"},
        {"Proxy-Authorization": "x"},
        {"webhook-signature": "v1,forged"},
        {"X-Ok": "a\r\nX-Injected: 1"},
        {"Bad Name": "x"},
        {"X-Nul": "a\x00b"},
    ],
)
async def test_forbidden_custom_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidHeaderError):
        validate_custom_headers(headers)
    async with RecordingReceiver() as rx:
        attempt = await deliver(
            rx.url(), headers, BODY, generate_secret(), "evt_1", client=loopback_client()
        )
    assert attempt.error_category == "invalid_header"
    assert isinstance(attempt.next_action, GiveUp)
    assert rx.connections == 0


async def test_bad_secret_and_method_give_up() -> None:
    async with RecordingReceiver() as rx:
        bad_secret = await deliver(rx.url(), {}, BODY, "whsec_", "evt_1", client=loopback_client())
        bad_method = await deliver(
            rx.url(), {}, BODY, generate_secret(), "evt_1", client=loopback_client(), method="GET"
        )
    assert bad_secret.error_category == "invalid_secret"
    assert bad_method.error_category == "invalid_header"
    assert rx.connections == 0


async def test_connection_refused_is_retried() -> None:
    rx = RecordingReceiver()
    await rx.start()
    url = rx.url()
    await rx.close()
    attempt = await deliver(url, {}, BODY, generate_secret(), "evt_1", client=loopback_client())
    assert attempt.error_category == "connect"
    assert isinstance(attempt.next_action, RetryAt)
