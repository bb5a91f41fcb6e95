"""The workspace's do-not-call list. The dialler checks it in the same transaction that
writes the dial ledger row (services/admission.py), so a number added here is never dialled
by any call — individual, campaign or retry — whose dial had not been admitted yet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from callwright.db.models_campaigns import DoNotCall
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.errors import InvalidRequest, NotFound
from callwright.domain.phone import normalize_e164, region_for_country_code

MAX_PER_REQUEST = 10_000


@dataclass(frozen=True, slots=True)
class Entry:
    number: str
    reason: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RejectedRow:
    row_number: int  # the file's first row is 1
    reason: str


@dataclass(frozen=True, slots=True)
class FileNumbers:
    numbers: tuple[str, ...]  # E.164
    rejected: tuple[RejectedRow, ...]


def read_file(text: str, *, country_code: str | None = None) -> FileNumbers:
    """The numbers of an imported file: one a line, or a CSV's first column; a first row
    without digits is a header. National numbers are read in ``country_code``'s country
    (``+91``, ``IN``); without it only E.164 is understood. A row that is not a phone number
    is reported, not fatal: one typo should not keep the rest of a do-not-call list out."""
    region = region_for_country_code(country_code) if country_code else None
    numbers: list[str] = []
    rejected: list[RejectedRow] = []
    first = True
    for row_number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cell = row[0].strip() if row else ""
        if not cell:
            continue
        if first and not any(ch.isdigit() for ch in cell):
            first = False
            continue  # a header
        first = False
        try:
            numbers.append(normalize_e164(cell, default_region=region))
        except InvalidRequest as exc:
            reason = exc.message
            if region is None and not cell.startswith("+"):
                reason += "; or send country_code to read national numbers"
            rejected.append(RejectedRow(row_number, reason))
    return FileNumbers(tuple(numbers), tuple(rejected))


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
