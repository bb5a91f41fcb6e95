"""Webhook delivery building blocks: signing, custom headers, retry policy, one attempt."""

from callwright.webhooks.headers import InvalidHeaderError, validate_custom_headers
from callwright.webhooks.retry import (
    Disable,
    Done,
    GiveUp,
    NextAction,
    Outcome,
    RetryAt,
    RetrySchedule,
    classify_status,
    decide,
    parse_retry_after,
    retry_delay_s,
)
from callwright.webhooks.sender import DeliveryAttempt, deliver
from callwright.webhooks.signing import (
    SignatureError,
    SigningError,
    generate_secret,
    sign,
    signature_headers,
    verify,
)

__all__ = [
    "DeliveryAttempt",
    "Disable",
    "Done",
    "GiveUp",
    "InvalidHeaderError",
    "NextAction",
    "Outcome",
    "RetryAt",
    "RetrySchedule",
    "SignatureError",
    "SigningError",
    "classify_status",
    "decide",
    "deliver",
    "generate_secret",
    "parse_retry_after",
    "retry_delay_s",
    "sign",
    "signature_headers",
    "validate_custom_headers",
    "verify",
]
