"""Campaigns (Ringg "bulk lists"): their life, their times, and whether a contact may be dialled.

A campaign is a contact list with an assistant, caller numbers, a calling window and a retry
policy. Each contact becomes one call (``calls.bulk_list_id`` = the campaign id) whose
retries are attempts of that call, as in Ringg's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from callwright.domain.calling_window import is_allowed, zone
from callwright.domain.errors import InvalidRequest


class CampaignStatus(StrEnum):
    DRAFT = "draft"  # contacts stored, not started
    INSUFFICIENT_BALANCE = "insufficient_balance"
    SCHEDULED = "scheduled"  # started, its start time is in the future
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"  # every contact reached a terminal state
    CANCELLED = "cancelled"  # terminated by the user
    FAILED = "failed"

    @property
    def is_active(self) -> bool:
        """The pacer keeps going (a paused campaign waits; it does not end)."""
        return self in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED)


STARTABLE = (CampaignStatus.DRAFT, CampaignStatus.INSUFFICIENT_BALANCE, CampaignStatus.FAILED)
# Made but not started: its calls are written from its contact list's rows when it starts.
# (A failed campaign is one whose upload failed; its list holds no rows to wait for.)
AWAITING_START = (CampaignStatus.DRAFT, CampaignStatus.INSUFFICIENT_BALANCE)

# What /campaign/all shows (ringg-api.md §2.6.4: pending|registered|running|completed|paused).
RINGG_STATUS = {
    CampaignStatus.DRAFT: "pending",
    CampaignStatus.INSUFFICIENT_BALANCE: "pending",
    CampaignStatus.SCHEDULED: "registered",
    CampaignStatus.RUNNING: "running",
    CampaignStatus.PAUSED: "paused",
    CampaignStatus.COMPLETED: "completed",
    CampaignStatus.CANCELLED: "completed",
    CampaignStatus.FAILED: "failed",
}

_FORMAT = "%d/%m/%Y, %H:%M"


def parse_campaign_time(value: str, tz_name: str, *, field: str) -> datetime:
    """Ringg's ``DD/MM/YYYY, HH:MM`` in the campaign's time zone (ISO 8601 accepted too)."""
    text = value.strip()
    tz = zone(tz_name)
    for parse in (lambda s: datetime.strptime(s, _FORMAT), datetime.fromisoformat):
        try:
            parsed = parse(text)
        except ValueError:
            continue
        aware = parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed
        return aware.astimezone(UTC)
    raise InvalidRequest(f"Invalid {field} {value!r}: use DD/MM/YYYY, HH:MM")


@dataclass(frozen=True, slots=True)
class Window:
    """The daily calling window of a campaign, in its time zone."""

    start: str
    end: str
    tz_name: str

    def allows(self, moment: datetime) -> bool:
        return is_allowed(moment, start=self.start, end=self.end, tz_name=self.tz_name)


@dataclass(frozen=True, slots=True)
class DialCheck:
    """Everything that decides whether one attempt may be dialled now."""

    now: datetime
    window: Window
    campaign_status: CampaignStatus | None  # None for an individual call
    campaign_end: datetime | None
    on_dnc_list: bool


class Verdict(StrEnum):
    DIAL = "dial"
    WAIT = "wait"  # not now: outside the window, or the campaign is paused
    SKIP_DNC = "skip_dnc"  # never: the number is on the do-not-call list
    STOP = "stop"  # never: the campaign ended (terminated, completed, past its end time)


def may_dial(check: DialCheck) -> Verdict:
    """Whether to dial an attempt now. Pure and deterministic: the dialler asks it inside the
    transaction that writes the dial ledger row, so a terminate, a pause or a do-not-call
    entry committed before that transaction is always seen."""
    if check.on_dnc_list:
        return Verdict.SKIP_DNC
    status = check.campaign_status
    if status is not None and not status.is_active:
        return Verdict.STOP
    if check.campaign_end is not None and check.now >= check.campaign_end:
        return Verdict.STOP
    if status is CampaignStatus.PAUSED or not check.window.allows(check.now):
        return Verdict.WAIT
    return Verdict.DIAL
