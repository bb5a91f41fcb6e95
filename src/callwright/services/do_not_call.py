"""The workspace's do-not-call list. The dialler checks it in the same transaction that
writes the dial ledger row (services/admission.py), so a number added here is never dialled
by any call — individual, campaign or retry — whose dial had not been admitted yet."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from callwright.db.models_campaigns import DoNotCall
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.errors import InvalidRequest, NotFound
from callwright.domain.phone import normalize_e164

MAX_PER_REQUEST = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    number: str
    reason: str
    created_at: datetime


def _normalised(numbers: Iterable[str]) -> list[str]:
    out: list[str] = []
    for raw in numbers:
        out.append(normalize_e164(raw))
        if len(out) > MAX_PER_REQUEST:
            raise InvalidRequest(f"At most {MAX_PER_REQUEST} numbers per request")
    if not out:
        raise InvalidRequest("Give at least one number")
    return list(dict.fromkeys(out))


async def add(uow: SessionFactory, workspace_id: str, numbers: Iterable[str], reason: str) -> int:
    """Add numbers (already listed ones are kept as they are); returns how many were new."""
    wanted = _normalised(numbers)
    rows = [{"workspace_id": workspace_id, "number": n, "reason": reason[:200]} for n in wanted]
    async with uow.begin() as session:
        dialect = session.get_bind().dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(DoNotCall)
        before = await _count(session, workspace_id)
        await session.execute(insert.on_conflict_do_nothing(), rows)
        return await _count(session, workspace_id) - before


async def remove(uow: SessionFactory, workspace_id: str, number: str) -> None:
    async with uow.begin() as session:
        result = await session.execute(
            delete(DoNotCall).where(
                DoNotCall.workspace_id == workspace_id, DoNotCall.number == normalize_e164(number)
            )
        )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("Number is not on the do-not-call list")


async def check(uow: SessionFactory, workspace_id: str, numbers: Sequence[str]) -> dict[str, bool]:
    wanted = _normalised(numbers)
    async with uow() as session:
        listed = set(
            await session.scalars(
                select(DoNotCall.number).where(
                    DoNotCall.workspace_id == workspace_id, DoNotCall.number.in_(wanted)
                )
            )
        )
    return {n: n in listed for n in wanted}


async def page(
    uow: SessionFactory, workspace_id: str, *, limit: int, offset: int
) -> tuple[list[Entry], int]:
    async with uow() as session:
        rows = (
            await session.scalars(
                select(DoNotCall)
                .where(DoNotCall.workspace_id == workspace_id)
                .order_by(DoNotCall.created_at.desc(), DoNotCall.number)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        total = await _count(session, workspace_id)
    return [Entry(r.number, r.reason, r.created_at) for r in rows], total


async def _count(session: object, workspace_id: str) -> int:
    return int(
        await session.scalar(  # type: ignore[attr-defined]
            select(func.count())
            .select_from(DoNotCall)
            .where(DoNotCall.workspace_id == workspace_id)
        )
        or 0
    )
