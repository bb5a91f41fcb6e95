"""Numbers: Ringg's /workspace/numbers and /workspace/number/{id}, plus our telephony accounts."""

from __future__ import annotations

from fastapi import APIRouter

from callwright.api.deps import ContainerDep, PageDep, WorkspaceId
from callwright.api.schemas.common import ERRORS, Message
from callwright.api.schemas.numbers import (
    AccountLimits,
    ImportNumbers,
    ImportNumbersResponse,
    NewTelephonyAccount,
    TelephonyAccountOut,
    TelephonyAccountResponse,
    TelephonyAccountsResponse,
    WorkspaceNumber,
    WorkspaceNumbersResponse,
)
from callwright.services import numbers

router = APIRouter(tags=["Numbers"], responses=ERRORS)


@router.get("/workspace/numbers", response_model=WorkspaceNumbersResponse, summary="Caller numbers")
async def list_numbers(
    c: ContainerDep, workspace_id: WorkspaceId, page: PageDep
) -> WorkspaceNumbersResponse:
    rows = await numbers.page(c.uow, workspace_id, limit=page.limit, offset=page.offset)
    return WorkspaceNumbersResponse(workspace_numbers=[WorkspaceNumber.of(*r) for r in rows])


@router.delete(
    "/workspace/number/{number_id}", response_model=Message, summary="Deallocate a number"
)
async def delete_number(c: ContainerDep, workspace_id: WorkspaceId, number_id: str) -> Message:
    await numbers.deallocate(c.uow, workspace_id, number_id)
    return Message(message="Number deallocated successfully!")


@router.post(
    "/workspace/numbers/import",
    response_model=ImportNumbersResponse,
    summary="Import numbers you own at a carrier (callwright)",
)
async def import_numbers(
    c: ContainerDep, workspace_id: WorkspaceId, body: ImportNumbers
) -> ImportNumbersResponse:
    entries = [{"number": e} if isinstance(e, str) else e.model_dump() for e in body.numbers]
    created = await numbers.import_numbers(
        c.uow, workspace_id, account_id=body.telephony_account_id, entries=entries
    )
    accounts = {a.id: a for a in await numbers.accounts(c.uow, workspace_id)}
    return ImportNumbersResponse(
        message="Numbers imported successfully!",
        workspace_numbers=[
            WorkspaceNumber.of(n, accounts[n.telephony_account_id], None) for n in created
        ],
    )


@router.post(
    "/telephony/accounts",
    response_model=TelephonyAccountResponse,
    tags=["Telephony"],
    summary="Add a telephony account (callwright)",
)
async def add_account(
    c: ContainerDep, workspace_id: WorkspaceId, body: NewTelephonyAccount
) -> TelephonyAccountResponse:
    account = await numbers.add_account(
        c.uow,
        workspace_id,
        provider=body.provider,
        name=body.name,
        credentials=body.credentials,
        max_concurrent_calls=body.max_concurrent_calls,
        calls_per_second=body.calls_per_second,
    )
    if account.provider == "sip" and c.settings.sip_inbound:
        await c.inbound.listen(c.telephony)  # its user agent starts answering our numbers
    return TelephonyAccountResponse(
        message="Telephony account added", telephony_account=TelephonyAccountOut.of(account)
    )


@router.get(
    "/telephony/accounts",
    response_model=TelephonyAccountsResponse,
    tags=["Telephony"],
    summary="List telephony accounts (callwright)",
)
async def list_accounts(c: ContainerDep, workspace_id: WorkspaceId) -> TelephonyAccountsResponse:
    accounts = await numbers.accounts(c.uow, workspace_id)
    return TelephonyAccountsResponse(
        telephony_accounts=[TelephonyAccountOut.of(a) for a in accounts]
    )


@router.put(
    "/telephony/accounts/{account_id}/limits",
    response_model=TelephonyAccountResponse,
    tags=["Telephony"],
    summary="Set an account's concurrent-call and calls-per-second caps (callwright)",
)
async def set_limits(
    c: ContainerDep, workspace_id: WorkspaceId, account_id: str, body: AccountLimits
) -> TelephonyAccountResponse:
    account = await numbers.set_limits(
        c.uow,
        workspace_id,
        account_id,
        max_concurrent_calls=body.max_concurrent_calls,
        calls_per_second=body.calls_per_second,
    )
    return TelephonyAccountResponse(
        message="Limits set", telephony_account=TelephonyAccountOut.of(account)
    )


@router.delete(
    "/telephony/accounts/{account_id}",
    response_model=Message,
    tags=["Telephony"],
    summary="Remove a telephony account without numbers (callwright)",
)
async def remove_account(c: ContainerDep, workspace_id: WorkspaceId, account_id: str) -> Message:
    await numbers.remove_account(c.uow, workspace_id, account_id)
    return Message(message="Telephony account removed")
