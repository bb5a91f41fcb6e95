"""Calls: Ringg's statuses and sub-statuses, and how a dial or a conversation ends in them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class CallStatus(StrEnum):
    REGISTERED = "registered"  # created and queued, not yet dialled
    ONGOING = "ongoing"
    RETRY = "retry"  # did not connect; a re-dial is scheduled
    COMPLETED = "completed"
    FAILED = "failed"  # did not connect and retries are exhausted
    ERROR = "error"  # could not place the call
    CANCELLED = "cancelled"
    FORWARDED = "forwarded"

    @property
    def is_terminal(self) -> bool:
        return self not in (CallStatus.REGISTERED, CallStatus.ONGOING, CallStatus.RETRY)


TERMINABLE = (CallStatus.REGISTERED, CallStatus.RETRY)


class SubStatus(StrEnum):
    QUEUED = "QUEUED"
    ACCEPTED = "ACCEPTED"
    RATE_LIMITED = "RATE_LIMITED"
    RETRY_SCHEDULED = "RETRY_SCHEDULED"
    MAX_CALL_DURATION = "MAX_CALL_DURATION"
    USER_TERMINATED = "USER_TERMINATED"
    DND_SKIPPED = "DND_SKIPPED"  # the number is on the workspace's do-not-call list
    CAMPAIGN_ENDED = "CAMPAIGN_ENDED"  # the campaign was terminated or passed its end time
    VOICEMAIL_DETECTED = "VOICEMAIL_DETECTED"
    NOT_ABLE_TO_CALL = "NOT_ABLE_TO_CALL"
    USER_BECAME_IDLE = "USER_BECAME_IDLE"
    INSUFFICIENT_CREDITS = "INSUFFICIENT_CREDITS"


class RetryReason(StrEnum):
    """Which of call_retry_config's delays applies (ringg-api.md §4.2)."""

    BUSY = "busy"
    NOT_PICKED = "not_picked"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Unconnected:
    """How an attempt that never became a conversation is reported."""

    status: CallStatus
    sub_status: str  # lower-case carrier words for failed/error, as Ringg delivers them
    retry_reason: RetryReason | None


# Dial outcomes (providers.base.DialOutcome values) → Ringg's words for them.
_UNCONNECTED = {
    "busy": Unconnected(CallStatus.FAILED, "busy line", RetryReason.BUSY),
    "no_answer": Unconnected(CallStatus.FAILED, "no answer", RetryReason.NOT_PICKED),
    "rejected": Unconnected(CallStatus.FAILED, "rejected", RetryReason.NOT_PICKED),
    "failed": Unconnected(CallStatus.ERROR, "not_able_to_call", RetryReason.FAILED),
}


def unconnected(outcome: str, detail: str = "") -> Unconnected:
    """The status of an attempt the carrier reported as ``outcome`` (busy, no_answer …)."""
    base = _UNCONNECTED.get(outcome, _UNCONNECTED["failed"])
    words = detail.strip().lower()
    return Unconnected(base.status, words or base.sub_status, base.retry_reason)


def retry_delay_minutes(reason: RetryReason, *, busy: int, not_picked: int, failed: int) -> int:
    return {RetryReason.BUSY: busy, RetryReason.NOT_PICKED: not_picked}.get(reason, failed)


# How a conversation ended (media EndReason values) → completed sub-status.
COMPLETED_SUB_STATUS = {
    "max_duration": SubStatus.MAX_CALL_DURATION,
    "idle_timeout": SubStatus.USER_BECAME_IDLE,
    "voicemail": SubStatus.VOICEMAIL_DETECTED,
}


def completed_sub_status(end_reason: str) -> str:
    return COMPLETED_SUB_STATUS.get(end_reason, SubStatus.ACCEPTED).value
