"""Handing due calls over to the workers without breaking any concurrency cap.

A call is *live* from the moment it is handed over (``dispatched_at`` set) until it ends or
goes back to wait for a retry: that span contains the carrier's part of the call, so
counting live calls is a safe upper bound on what the carrier carries. Inbound and web calls
are created live, so they take the same slots.

Caps: the platform's backlog (everything handed over and not finished), each workspace,
each telephony account (its channels) and each campaign. Claims are serialised (SQLite has
one writer; PostgreSQL takes a transaction-scoped advisory lock), so two pacers on two
machines cannot both take the last slot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Call, TelephonyAccount, Workspace
from callwright.db.models_campaigns import Campaign
from callwright.domain.call import TERMINABLE, CallStatus
from callwright.jobs.port import JobSpec
from callwright.services.calls import call_job

LIVE = (*TERMINABLE, CallStatus.ONGOING)
_CLAIM_LOCK = 0x63_77_63_6C  # "cwcl": one key for every claim of the platform


@dataclass(frozen=True, slots=True)
class Claimed:
    call_id: str
    workspace_id: str
    attempt: int
    dispatch: int
    campaign_id: str | None

    def job(self) -> JobSpec:
        """The job that dials this call."""
        return call_job(
            self.call_id,
            self.workspace_id,
            attempt=self.attempt,
            dispatch=self.dispatch,
            campaign_id=self.campaign_id,
        )


@dataclass(frozen=True, slots=True)
class Scope:
    """Which due calls a claim looks at: one campaign's, or the individual calls
    (``campaign_id`` None)."""

    campaign_id: str | None


async def serialise_claims(session: AsyncSession) -> None:
    """Take the platform-wide claim lock for the rest of this transaction (PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CLAIM_LOCK})


async def claim_due(
    session: AsyncSession,
    *,
    scope: Scope,
    now: datetime,
    backlog: int,
    workspace_default_cap: int,
    limit: int | None = None,
) -> list[Claimed]:
    """Hand over the due calls of ``scope`` that fit under every cap; returns them.

    Runs inside the caller's write transaction; the caller enqueues the jobs after commit.
    """
    await serialise_claims(session)
    live_total = await session.scalar(select(func.count()).select_from(Call).where(_live()))
    room = backlog - int(live_total or 0)
    if limit is not None:
        room = min(room, limit)
    if room <= 0:
        return []
    due = select(Call.id, Call.workspace_id, Call.telephony_account_id, Call.bulk_list_id).where(
        Call.status.in_(TERMINABLE), Call.dispatched_at.is_(None), Call.due_at <= now
    )
    due = (
        due.where(Call.bulk_list_id.is_(None))
        if scope.campaign_id is None
        else due.where(Call.bulk_list_id == scope.campaign_id)
    )
    # Look a little past the room: some candidates may sit behind a full account or workspace.
    candidates = (await session.execute(due.order_by(Call.due_at).limit(room * 4))).all()
    if not candidates:
        return []
    caps = await _Caps.load(session, candidates, workspace_default_cap)
    chosen: list[str] = []
    for c in candidates:
        if len(chosen) >= room:
            break
        if caps.take(c.workspace_id, c.telephony_account_id, c.bulk_list_id):
            chosen.append(c.id)
    if not chosen:
        return []
    rows = (
        await session.execute(
            update(Call)
            .where(Call.id.in_(chosen), Call.dispatched_at.is_(None), Call.status.in_(TERMINABLE))
            .values(dispatched_at=now, dispatches=Call.dispatches + 1)
            .returning(
                Call.id, Call.workspace_id, Call.retry_count, Call.dispatches, Call.bulk_list_id
            ),
            execution_options={"synchronize_session": False},
        )
    ).all()
    return [
        Claimed(r.id, r.workspace_id, r.retry_count, r.dispatches, r.bulk_list_id) for r in rows
    ]


def _live() -> ColumnElement[bool]:
    return Call.status.in_(LIVE) & Call.dispatched_at.is_not(None)


class _Caps:
    """Live counts and caps of the workspaces, accounts and campaigns among the candidates."""

    def __init__(self) -> None:
        self.live: Counter[tuple[str, str]] = Counter()
        self.cap: dict[tuple[str, str], int] = {}

    @classmethod
    async def load(
        cls, session: AsyncSession, candidates: Iterable[object], workspace_default: int
    ) -> _Caps:
        caps = cls()
        rows = list(candidates)
        workspaces = {r.workspace_id for r in rows}  # type: ignore[attr-defined]
        accounts = {r.telephony_account_id for r in rows} - {None}  # type: ignore[attr-defined]
        campaigns = {r.bulk_list_id for r in rows} - {None}  # type: ignore[attr-defined]
        for ws_id, cap in (
            await session.execute(
                select(Workspace.id, Workspace.max_concurrent_calls).where(
                    Workspace.id.in_(workspaces)
                )
            )
        ).all():
            caps.cap[("ws", ws_id)] = cap or workspace_default
        if accounts:
            for acc_id, cap in (
                await session.execute(
                    select(TelephonyAccount.id, TelephonyAccount.max_concurrent_calls).where(
                        TelephonyAccount.id.in_(accounts)
                    )
                )
            ).all():
                if cap:
                    caps.cap[("acc", acc_id)] = cap
        if campaigns:
            for camp_id, cap in (
                await session.execute(
                    select(Campaign.id, Campaign.max_concurrent_calls).where(
                        Campaign.id.in_(campaigns)
                    )
                )
            ).all():
                if cap:
                    caps.cap[("camp", camp_id)] = cap
        live = (
            select(Call.workspace_id, Call.telephony_account_id, Call.bulk_list_id, func.count())
            .where(_live(), Call.workspace_id.in_(workspaces))
            .group_by(Call.workspace_id, Call.telephony_account_id, Call.bulk_list_id)
        )
        for row in (await session.execute(live)).all():
            caps._add(row[0], row[1], row[2], row[3])
        return caps

    def _keys(self, ws_id: str, acc_id: str | None, camp_id: str | None) -> list[tuple[str, str]]:
        keys: list[tuple[str, str]] = [("ws", ws_id)]
        if acc_id is not None:
            keys.append(("acc", acc_id))
        if camp_id is not None:
            keys.append(("camp", camp_id))
        return keys

    def _add(self, ws_id: str, acc_id: str | None, camp_id: str | None, n: int) -> None:
        for key in self._keys(ws_id, acc_id, camp_id):
            self.live[key] += n

    def take(self, ws_id: str, acc_id: str | None, camp_id: str | None) -> bool:
        """Take one slot if every cap that applies has room."""
        keys = self._keys(ws_id, acc_id, camp_id)
        if any(k in self.cap and self.live[k] >= self.cap[k] for k in keys):
            return False
        self._add(ws_id, acc_id, camp_id, 1)
        return True
