"""The last check before a dial, and the dial ledger row that makes it happen at most once.

One write transaction asks :func:`~callwright.domain.campaign.may_dial` (do-not-call list,
campaign status and end, calling window), checks the telephony account's calls-per-second
against the ledger, and inserts the ledger row. A terminate, a pause or a do-not-call entry
that committed before this transaction is therefore always obeyed, and the ledger (not the
job engine) guarantees one dial per attempt whatever crashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Call, DialLedger, TelephonyAccount
from callwright.db.models_campaigns import Campaign, DoNotCall
from callwright.domain.assistant import CallConfig
from callwright.domain.calling_window import next_allowed
from callwright.domain.campaign import CampaignStatus, DialCheck, Verdict, Window, may_dial

# Ledger times are taken just before the carrier is asked; a little slack keeps the carrier's
# own clock, a few milliseconds later, inside the limit too.
_CPS_WINDOW = timedelta(seconds=1.1)


class Admission(StrEnum):
    DIAL = "dial"  # the ledger row is written: dial now
    DIALLED_BEFORE = "dialled_before"  # a run that died dialled this attempt: reconcile
    SLOW_DOWN = "slow_down"  # the account's calls per second are used up: try again shortly
    WAIT = "wait"  # not now (window closed, campaign paused): back to waiting until ``until``
    DO_NOT_CALL = "do_not_call"
    CAMPAIGN_OVER = "campaign_over"


@dataclass(frozen=True, slots=True)
class Decision:
    admission: Admission
    until: datetime | None = None  # WAIT: when it may be dialled next; SLOW_DOWN: retry at


async def admit(session: AsyncSession, call: Call, *, attempt: int, now: datetime) -> Decision:
    """Decide, and on DIAL write the ledger row, inside the caller's write transaction."""
    if await session.get(DialLedger, (call.id, attempt)) is not None:
        return Decision(Admission.DIALLED_BEFORE)
    campaign = (
        await session.get(Campaign, call.bulk_list_id) if call.bulk_list_id is not None else None
    )
    time = CallConfig.model_validate(call.call_config).call_time
    window = Window(time.call_start_time, time.call_end_time, time.timezone)
    dnc = await session.get(DoNotCall, (call.workspace_id, call.to_number))
    verdict = may_dial(
        DialCheck(
            now=now,
            window=window,
            campaign_status=CampaignStatus(campaign.status) if campaign else None,
            campaign_end=campaign.end_at if campaign else None,
            on_dnc_list=dnc is not None,
        )
    )
    if verdict is Verdict.SKIP_DNC:
        return Decision(Admission.DO_NOT_CALL)
    if verdict is Verdict.STOP:
        return Decision(Admission.CAMPAIGN_OVER)
    if verdict is Verdict.WAIT:
        until = next_allowed(now, start=window.start, end=window.end, tz_name=window.tz_name)
        return Decision(Admission.WAIT, until=until)
    account_id = call.telephony_account_id
    if account_id is not None:
        busy_until = await _cps_full_until(session, account_id, now)
        if busy_until is not None:
            return Decision(Admission.SLOW_DOWN, until=busy_until)
    session.add(
        DialLedger(
            call_id=call.id,
            attempt=attempt,
            workspace_id=call.workspace_id,
            telephony_account_id=account_id,
            dialed_at=now,
        )
    )
    await session.flush()
    return Decision(Admission.DIAL)


async def _cps_full_until(session: AsyncSession, account_id: str, now: datetime) -> datetime | None:
    """None if the account may start another dial now; else when its oldest recent dial
    leaves the one-second window."""
    cps = await session.scalar(
        select(TelephonyAccount.calls_per_second).where(TelephonyAccount.id == account_id)
    )
    if not cps:
        return None
    if session.get_bind().dialect.name == "postgresql":
        # Serialise the dials of this account across workers (SQLite has one writer).
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"cps:{account_id}"}
        )
    # Fewer than one dial per second (a cautious carrier) is one dial per 1/cps seconds.
    span = (
        _CPS_WINDOW
        if cps >= 1
        else timedelta(seconds=1 / cps) + (_CPS_WINDOW - timedelta(seconds=1))
    )
    since = now - span
    recent = (
        await session.execute(
            select(func.count(), func.min(DialLedger.dialed_at)).where(
                DialLedger.telephony_account_id == account_id, DialLedger.dialed_at > since
            )
        )
    ).one()
    if recent[0] < max(1, int(cps)):
        return None
    return recent[1] + span
