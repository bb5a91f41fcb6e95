"""Caller numbers and the telephony accounts that carry them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Agent, PhoneNumber, TelephonyAccount


async def page(
    session: AsyncSession, workspace_id: str, *, limit: int, offset: int
) -> Sequence[tuple[PhoneNumber, TelephonyAccount, Agent | None]]:
    rows = await session.execute(
        select(PhoneNumber, TelephonyAccount, Agent)
        .join(TelephonyAccount, TelephonyAccount.id == PhoneNumber.telephony_account_id)
        .outerjoin(
            Agent,
            (Agent.id == PhoneNumber.inbound_agent_id) & (Agent.workspace_id == workspace_id),
        )
        .where(PhoneNumber.workspace_id == workspace_id, PhoneNumber.deleted_at.is_(None))
        .order_by(PhoneNumber.created_at, PhoneNumber.id)
        .limit(limit)
        .offset(offset)
    )
    return [(n, t, a) for n, t, a in rows]


async def get(session: AsyncSession, workspace_id: str, number_id: str) -> PhoneNumber | None:
    return await session.scalar(
        select(PhoneNumber).where(
            PhoneNumber.id == number_id,
            PhoneNumber.workspace_id == workspace_id,
            PhoneNumber.deleted_at.is_(None),
        )
    )


async def by_number(session: AsyncSession, workspace_id: str, number: str) -> PhoneNumber | None:
    return await session.scalar(
        select(PhoneNumber).where(
            PhoneNumber.number == number,
            PhoneNumber.workspace_id == workspace_id,
            PhoneNumber.deleted_at.is_(None),
        )
    )


async def account(
    session: AsyncSession, workspace_id: str, account_id: str
) -> TelephonyAccount | None:
    return await session.scalar(
        select(TelephonyAccount).where(
            TelephonyAccount.id == account_id,
            TelephonyAccount.workspace_id == workspace_id,
            TelephonyAccount.deleted_at.is_(None),
        )
    )


async def accounts(session: AsyncSession, workspace_id: str) -> Sequence[TelephonyAccount]:
    rows = await session.scalars(
        select(TelephonyAccount)
        .where(TelephonyAccount.workspace_id == workspace_id, TelephonyAccount.deleted_at.is_(None))
        .order_by(TelephonyAccount.created_at)
    )
    return rows.all()


async def numbers_of_account(
    session: AsyncSession, workspace_id: str, account_id: str
) -> Sequence[PhoneNumber]:
    rows = await session.scalars(
        select(PhoneNumber).where(
            PhoneNumber.workspace_id == workspace_id,
            PhoneNumber.telephony_account_id == account_id,
            PhoneNumber.deleted_at.is_(None),
        )
    )
    return rows.all()
