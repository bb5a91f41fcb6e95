"""Contact lists and their contacts. Every query is scoped by workspace."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from callwright.db.models_contacts import Contact, ContactList
from callwright.db.types import utcnow
from callwright.domain.contact_csv import ContactRow
from callwright.domain.ids import new_id

# Rows per INSERT executemany: large enough to amortise the round trip, small enough to keep
# one batch's parameters (~1-2 MB) cheap to hold.
INSERT_BATCH = 5_000

_CONTACTS: Table = Contact.__table__  # type: ignore[assignment]


async def create_list(
    session: AsyncSession,
    workspace_id: str,
    *,
    name: str,
    country_code: str,
    variables_map: Mapping[str, str],
    agent_id: str | None = None,
    list_id: str | None = None,
    status: str = "verifying",
) -> ContactList:
    now = utcnow()
    row = ContactList(
        id=list_id or new_id(),
        workspace_id=workspace_id,
        name=name,
        agent_id=agent_id,
        variables_map=dict(variables_map),
        country_code=country_code,
        status=status,
        total_rows=0,
        successful_rows=0,
        failed_rows=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def get_list(
    session: AsyncSession, workspace_id: str, list_id: str, *, for_update: bool = False
) -> ContactList | None:
    """The live list; ``for_update`` locks its row until the transaction ends."""
    query = select(ContactList).where(
        ContactList.id == list_id,
        ContactList.workspace_id == workspace_id,
        ContactList.deleted_at.is_(None),
    )
    return await session.scalar(query.with_for_update() if for_update else query)


async def lists_page(
    session: AsyncSession, workspace_id: str, *, limit: int, offset: int
) -> Sequence[ContactList]:
    rows = await session.scalars(
        select(ContactList)
        .where(ContactList.workspace_id == workspace_id, ContactList.deleted_at.is_(None))
        .order_by(ContactList.created_at.desc(), ContactList.id)
        .limit(limit)
        .offset(offset)
    )
    return rows.all()


async def count_lists(session: AsyncSession, workspace_id: str) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(ContactList)
        .where(ContactList.workspace_id == workspace_id, ContactList.deleted_at.is_(None))
    )
    return int(total or 0)


async def update_list(
    session: AsyncSession, workspace_id: str, list_id: str, **values: Any
) -> bool:
    """Set columns of a live list (``updated_at`` too); False if there is no such list."""
    result = await session.execute(
        update(ContactList)
        .where(
            ContactList.id == list_id,
            ContactList.workspace_id == workspace_id,
            ContactList.deleted_at.is_(None),
        )
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_list(
    session: AsyncSession, workspace_id: str, list_id: str, *, now: datetime | None = None
) -> bool:
    """Soft-delete the list and hard-delete its contacts; False if there is no such list."""
    stamp = now or utcnow()
    if not await update_list(session, workspace_id, list_id, deleted_at=stamp):
        return False
    await delete_contacts(session, workspace_id, list_id)
    return True


async def insert_contacts(
    session: AsyncSession, workspace_id: str, list_id: str, rows: Iterable[ContactRow]
) -> int:
    """Insert rows, ``INSERT_BATCH`` per statement. Returns the count.

    SQLite takes a driver-level executemany and PostgreSQL a binary COPY: SQLAlchemy's
    per-row parameter processing would otherwise cost three times the database's own work.
    """
    conn = await session.connection()
    dialect = conn.dialect.name
    count = 0
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(
            (
                list_id, workspace_id, row.row_number, row.mobile_number, row.callee_name,
                json.dumps(row.variables, ensure_ascii=False),
            )
        )  # fmt: skip
        if len(batch) >= INSERT_BATCH:
            await _insert_batch(conn, dialect, batch)
            count += len(batch)
            batch = []
    if batch:
        await _insert_batch(conn, dialect, batch)
        count += len(batch)
    return count


_COLUMNS = ("list_id", "workspace_id", "row_number", "mobile_number", "callee_name", "variables")
_SQLITE_INSERT = f"INSERT INTO contacts ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)"


async def _insert_batch(conn: AsyncConnection, dialect: str, batch: list[tuple[Any, ...]]) -> None:
    if dialect == "sqlite":
        await conn.exec_driver_sql(_SQLITE_INSERT, batch)
    elif dialect == "postgresql":
        raw = await conn.get_raw_connection()
        driver: Any = raw.driver_connection  # an asyncpg connection
        await driver.copy_records_to_table("contacts", records=batch, columns=_COLUMNS)
    else:
        keys = _COLUMNS
        rows = [dict(zip(keys, (*r[:5], json.loads(r[5])), strict=True)) for r in batch]
        await conn.execute(insert(_CONTACTS), rows)


async def delete_contacts(session: AsyncSession, workspace_id: str, list_id: str) -> int:
    result = await session.execute(
        delete(Contact).where(Contact.list_id == list_id, Contact.workspace_id == workspace_id)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def count_contacts(session: AsyncSession, workspace_id: str, list_id: str) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(Contact)
        .where(Contact.list_id == list_id, Contact.workspace_id == workspace_id)
    )
    return int(total or 0)


ContactRecord = Row[tuple[int, int, str, str, dict[str, Any]]]


async def contacts_page(
    session: AsyncSession, workspace_id: str, list_id: str, *, after_id: int = 0, limit: int = 1000
) -> Sequence[ContactRecord]:
    """Contacts with ``id > after_id`` in id order (keyset pagination: pass the last id back).

    Each row has ``id, row_number, mobile_number, callee_name, variables``.
    """
    result = await session.execute(
        select(
            Contact.id,
            Contact.row_number,
            Contact.mobile_number,
            Contact.callee_name,
            Contact.variables,
        )
        .where(
            Contact.list_id == list_id,
            Contact.workspace_id == workspace_id,
            Contact.id > after_id,
        )
        .order_by(Contact.id)
        .limit(limit)
    )
    return result.all()


async def iter_contacts(
    session: AsyncSession, workspace_id: str, list_id: str, *, page_size: int = 1000
) -> AsyncIterator[ContactRecord]:
    """Every contact of the list in id order, read a page at a time."""
    after_id = 0
    while True:
        page = await contacts_page(
            session, workspace_id, list_id, after_id=after_id, limit=page_size
        )
        for record in page:
            yield record
        if len(page) < page_size:
            return
        after_id = page[-1].id
