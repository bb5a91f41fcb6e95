"""Caller numbers and telephony accounts (the latter are ours: Ringg has no API for them)."""

from __future__ import annotations

from typing import Any

from callwright.db.models import Agent, PhoneNumber, TelephonyAccount
from callwright.db.repositories import numbers as repo
from callwright.db.types import utcnow
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.errors import Conflict, Forbidden, InvalidRequest, NotFound
from callwright.domain.ids import new_id
from callwright.domain.phone import normalize_e164
from callwright.domain.telephony import validate_credentials

MAX_IMPORT = 100


async def page(
    uow: SessionFactory, workspace_id: str, *, limit: int, offset: int
) -> list[tuple[PhoneNumber, TelephonyAccount, Agent | None]]:
    async with uow() as session:
        return list(await repo.page(session, workspace_id, limit=limit, offset=offset))


async def deallocate(uow: SessionFactory, workspace_id: str, number_id: str) -> None:
    async with uow.begin() as session:
        number = await repo.get(session, workspace_id, number_id)
        if number is None:
            raise NotFound("Number not found")
        if number.is_test_number:
            raise Forbidden("Test numbers cannot be deallocated")
        number.deleted_at = utcnow()
        number.inbound_agent_id = None


async def add_account(
    uow: SessionFactory,
    workspace_id: str,
    *,
    provider: str,
    name: str,
    credentials: dict[str, Any],
    max_concurrent_calls: int | None = None,
    calls_per_second: float | None = None,
) -> TelephonyAccount:
    stored = validate_credentials(provider, credentials)
    account = TelephonyAccount(
        id=new_id(),
        workspace_id=workspace_id,
        provider=provider,
        name=name,
        credentials=stored,
        max_concurrent_calls=max_concurrent_calls,
        calls_per_second=calls_per_second,
    )
    async with uow.begin() as session:
        session.add(account)
    return account


async def set_limits(
    uow: SessionFactory,
    workspace_id: str,
    account_id: str,
    *,
    max_concurrent_calls: int | None,
    calls_per_second: float | None,
) -> TelephonyAccount:
    """Set (or with None, lift) the account's caps; the next dials obey them."""
    async with uow.begin() as session:
        account = await repo.account(session, workspace_id, account_id)
        if account is None:
            raise NotFound("Telephony account not found")
        account.max_concurrent_calls = max_concurrent_calls
        account.calls_per_second = calls_per_second
    return account


async def accounts(uow: SessionFactory, workspace_id: str) -> list[TelephonyAccount]:
    async with uow() as session:
        return list(await repo.accounts(session, workspace_id))


async def remove_account(uow: SessionFactory, workspace_id: str, account_id: str) -> None:
    async with uow.begin() as session:
        account = await repo.account(session, workspace_id, account_id)
        if account is None:
            raise NotFound("Telephony account not found")
        if await repo.numbers_of_account(session, workspace_id, account_id):
            raise Conflict("Deallocate this account's numbers first")
        account.deleted_at = utcnow()


async def import_numbers(
    uow: SessionFactory,
    workspace_id: str,
    *,
    account_id: str,
    entries: list[dict[str, Any]],
) -> list[PhoneNumber]:
    """Add numbers the workspace owns at a carrier. All or nothing."""
    if not entries or len(entries) > MAX_IMPORT:
        raise InvalidRequest(f"Give between 1 and {MAX_IMPORT} numbers")
    normalized = [normalize_e164(str(e["number"])) for e in entries]
    if len(set(normalized)) != len(normalized):
        raise InvalidRequest("The same number appears twice")
    created = []
    async with uow.begin() as session:
        account = await repo.account(session, workspace_id, account_id)
        if account is None:
            raise NotFound("Telephony account not found")
        for entry, number in zip(entries, normalized, strict=True):
            if await repo.by_number(session, workspace_id, number):
                raise Conflict(f"{number} is already in this workspace")
            row = PhoneNumber(
                id=new_id(),
                workspace_id=workspace_id,
                telephony_account_id=account.id,
                number=number,
                display_name=entry.get("display_name"),
                tags=list(entry.get("tags") or []),
                is_inbound_enabled=bool(entry.get("is_inbound_enabled", False)),
            )
            session.add(row)
            created.append(row)
    return created
