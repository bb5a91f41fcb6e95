"""One webhook delivery attempt: sign, send safely, classify, decide what comes next.

`deliver` never raises for delivery problems: every failure (refused URL, DNS, TLS,
timeout, bad status, bad custom header) becomes a `DeliveryAttempt` whose
`next_action` tells the caller (the durable delivery workflow) to stop, retry at a
time, or disable the endpoint. It holds no state; attempt numbering, clocks and the
random source are the caller's, so a replayed workflow step decides the same way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from callwright.net.errors import DeliveryError, UnsafeURLError
from callwright.net.safe_client import SafeHTTPClient
from callwright.webhooks.headers import InvalidHeaderError, validate_custom_headers
from callwright.webhooks.retry import (
    NextAction,
    Outcome,
    RetrySchedule,
    classify_status,
    decide,
    parse_retry_after,
)
from callwright.webhooks.signing import SigningError, signature_headers

USER_AGENT = "callwright-webhooks/1"
SNIPPET_BYTES = 1024
WEBHOOK_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """The record of one attempt, fit for the delivery log.

    `error_category` is None on an HTTP response, else one of the `DeliveryError`
    categories, `unsafe_url:<reason>`, `invalid_header` or `invalid_secret`.
    `response_snippet` is at most the first 1 KiB of the body, decoded with
    replacement characters and stripped of control characters. `location` is the
    `Location` of a 3xx (never followed). `peer` is the IP address dialled, if any.
    """

    msg_id: str
    attempt: int
    started_at: datetime
    status_code: int | None
    latency_ms: float
    response_snippet: str
    error: str | None
    error_category: str | None
    location: str | None
    peer: str | None
    next_action: NextAction


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def deliver(
    endpoint_url: str,
    headers: Mapping[str, str],
    body: bytes,
    secret: str | Sequence[str],
    msg_id: str,
    *,
    client: SafeHTTPClient,
    attempt: int = 1,
    method: str = "POST",
    schedule: RetrySchedule | None = None,
    clock: Callable[[], datetime] = _utcnow,
    rng: random.Random | None = None,
) -> DeliveryAttempt:
    """Make delivery attempt number `attempt` of message `msg_id` to `endpoint_url`.

    `headers` are the subscription's custom headers; `secret` may be several secrets
    during rotation (all sign). The client's policy and limits apply (Ringg: 30 s).
    """
    sched = schedule if schedule is not None else RetrySchedule()
    rand = rng if rng is not None else random.Random()
    started_at = clock()
    t0 = time.monotonic()

    def finish(
        outcome: Outcome,
        *,
        status: int | None = None,
        snippet: str = "",
        error: str | None = None,
        category: str | None = None,
        location: str | None = None,
        retry_after_s: float | None = None,
        peer: str | None = None,
    ) -> DeliveryAttempt:
        now = clock()
        action = decide(
            outcome,
            attempt=attempt,
            now=now,
            schedule=sched,
            rng=rand,
            retry_after_s=retry_after_s,
            reason=error or (f"HTTP {status}" if status is not None else ""),
        )
        return DeliveryAttempt(
            msg_id=msg_id,
            attempt=attempt,
            started_at=started_at,
            status_code=status,
            latency_ms=(time.monotonic() - t0) * 1000.0,
            response_snippet=snippet,
            error=error,
            error_category=category,
            location=location,
            peer=peer,
            next_action=action,
        )

    verb = method.upper()
    try:
        if verb not in WEBHOOK_METHODS:
            raise InvalidHeaderError(":method", "webhooks are sent with POST, PUT or PATCH")
        custom = validate_custom_headers(headers)
        timestamp_s = int(started_at.timestamp())
        signed = signature_headers(secret, msg_id=msg_id, timestamp_s=timestamp_s, body=body)
    except InvalidHeaderError as exc:
        return finish(Outcome.FAIL, error=str(exc), category="invalid_header")
    except SigningError as exc:
        return finish(Outcome.FAIL, error=str(exc), category="invalid_secret")

    merged: dict[str, tuple[str, str]] = {
        "content-type": ("Content-Type", "application/json"),
        "user-agent": ("User-Agent", USER_AGENT),
    }
    # Custom headers may replace Content-Type/User-Agent; they can never replace the
    # signature headers (refused above), which are added last.
    for name, value in custom.items():
        merged[name.lower()] = (name, value)
    for name, value in signed.items():
        merged[name] = (name, value)

    try:
        response = await client.request(
            verb,
            endpoint_url,
            headers=list(merged.values()),
            content=body,
            max_response_bytes=SNIPPET_BYTES,
        )
    except UnsafeURLError as exc:
        return finish(Outcome.FAIL, error=str(exc), category=f"unsafe_url:{exc.reason}")
    except DeliveryError as exc:
        outcome = Outcome.RETRY if exc.retryable else Outcome.FAIL
        return finish(outcome, status=exc.status_code, error=str(exc), category=exc.category)

    status = response.status_code
    outcome = classify_status(status)
    location = response.header("location") if 300 <= status <= 399 else None
    error = None
    if outcome is not Outcome.SUCCESS:
        error = f"HTTP {status}"
        if location is not None:
            error += " redirect not followed"
    return finish(
        outcome,
        status=status,
        snippet=safe_snippet(response.body),
        error=error,
        location=_clean(location) if location is not None else None,
        retry_after_s=parse_retry_after(response.header("retry-after"), now=clock()),
        peer=response.peer,
    )


def safe_snippet(body: bytes, *, limit_bytes: int = SNIPPET_BYTES) -> str:
    """First `limit_bytes` of a response body as printable text for logs and the UI."""
    return _clean(body[:limit_bytes].decode("utf-8", errors="replace"))


def _clean(text: str) -> str:
    return "".join(ch if ch.isprintable() or ch in "\n\t" else "\ufffd" for ch in text)[:2048]
