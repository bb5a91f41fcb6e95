"""Calling: individual calls, history, details, export, termination and recordings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from callwright.api.deps import ContainerDep, WorkspaceId
from callwright.api.schemas.calls import (
    CallDetails,
    CallDetailsResponse,
    CallInitiatedResponse,
    HistoryCall,
    HistoryResponse,
    IndividualCall,
    IndividualCallV2,
    StatusName,
    TerminateCalls,
    _IndividualCall,
)
from callwright.api.schemas.common import ERRORS, Message
from callwright.bootstrap import Container
from callwright.db.models import Call
from callwright.db.repositories.calls import CallFilter
from callwright.domain.errors import Forbidden, InvalidRequest, NotFound
from callwright.services import call_queries, calls, termination
from callwright.services.events import signed_recording_url

router = APIRouter(tags=["Calling"], responses=ERRORS)
RECORDING_ROUTE = "call_recording"


def recording_url(c: Container, call: Call) -> str | None:
    return signed_recording_url(c.recordings, c.settings.base_url(), call)


async def _place(
    request: Request,
    c: Container,
    workspace_id: str,
    body: _IndividualCall,
    idempotency_key: str | None,
) -> JSONResponse:
    idem = None
    if idempotency_key:
        if len(idempotency_key) > 255:
            raise InvalidRequest("Idempotency-Key is at most 255 characters")
        idem = calls.Idempotency.of(idempotency_key, await request.body())
    placed = await calls.place(
        c.uow,
        workspace_id,
        body.to_request(),
        on_created=c.wake_after_new_call,
        render=CallInitiatedResponse.of,
        credits_per_minute=c.settings.credits_per_minute,
        idempotency=idem,
    )
    headers = {"Idempotent-Replayed": "true"} if placed.replayed else {}
    return JSONResponse(placed.response, headers=headers)


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Repeat a POST safely: same key, same answer."),
]


@router.post(
    "/calling/outbound/individual",
    response_model=CallInitiatedResponse,
    summary="Place one outbound call",
)
async def call_individual(
    request: Request,
    c: ContainerDep,
    workspace_id: WorkspaceId,
    body: IndividualCall,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await _place(request, c, workspace_id, body, idempotency_key)


@router.post(
    "/calling/v2/outbound/individual",
    response_model=CallInitiatedResponse,
    summary="Place one outbound call (number pools)",
)
async def call_individual_v2(
    request: Request,
    c: ContainerDep,
    workspace_id: WorkspaceId,
    body: IndividualCallV2,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    sources = body.sources()
    if not sources:
        raise InvalidRequest("Provide at least one of: number_pool_id, from_number_id, from_number")
    if len(sources) > 1:
        raise InvalidRequest("Provide exactly one of: number_pool_id, from_number_id, from_number")
    return await _place(request, c, workspace_id, body, idempotency_key)


def _date(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest(f"Invalid date format for {name}.", code="invalid_parameter") from exc
    if parsed.tzinfo is None:
        raise InvalidRequest(
            f"{name} needs a time zone offset, e.g. +05:30", code="invalid_parameter"
        )
    return parsed


DateQuery = Annotated[str | None, Query(max_length=40, description="ISO 8601 with offset")]


@router.get("/calling/history", response_model=HistoryResponse, summary="Call history")
async def history(
    c: ContainerDep,
    workspace_id: WorkspaceId,
    start_date: DateQuery = None,
    end_date: DateQuery = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    agent_id: Annotated[str | None, Query(max_length=64)] = None,
    status: StatusName | None = None,
    bulk_list_id: Annotated[str | None, Query(max_length=64)] = None,
) -> HistoryResponse:
    f = CallFilter(
        start=_date(start_date, "start_date"),
        end=_date(end_date, "end_date"),
        agent_ids=(agent_id,) if agent_id else (),
        status=status,
        bulk_list_id=bulk_list_id,
    )
    rows, total = await call_queries.history(c.uow, workspace_id, f, limit=limit, offset=offset)
    return HistoryResponse(
        calls=[HistoryCall.of(r, recording_url(c, r.call)) for r in rows],
        limit=limit,
        offset=offset,
        count=len(rows),
        total=total,
    )


@router.get("/calling/call-details", response_model=CallDetailsResponse, summary="One call")
async def call_details(
    c: ContainerDep,
    workspace_id: WorkspaceId,
    id: Annotated[str, Query(max_length=64, description="The call id")],
    send_analysis: bool = False,
) -> CallDetailsResponse:
    call = await call_queries.details(c.uow, workspace_id, id)
    return CallDetailsResponse(
        status="success",
        data=CallDetails.of(call, recording_url(c, call), send_analysis=send_analysis),
    )


@router.post(
    "/calling/history/download",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The calls as CSV"}},
    summary="Export call history as CSV",
)
async def download_history(
    c: ContainerDep,
    workspace_id: WorkspaceId,
    start_date: DateQuery = None,
    end_date: DateQuery = None,
    agent_id: Annotated[list[str] | None, Query(max_length=50)] = None,
    status: StatusName | None = None,
    include_analysis: bool = False,
    call_type: Annotated[str | None, Query(pattern="^(inbound|outbound|webcall)$")] = None,
    bulk_list_id: Annotated[str | None, Query(max_length=64)] = None,
    voicemail: bool | None = None,
    from_number: Annotated[str | None, Query(max_length=32)] = None,
    to_number: Annotated[str | None, Query(max_length=32)] = None,
    call_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    f = CallFilter(
        start=_date(start_date, "start_date"),
        end=_date(end_date, "end_date"),
        agent_ids=tuple(agent_id or ()),
        status=status,
        bulk_list_id=bulk_list_id,
        direction=call_type,
        voicemail=voicemail,
        from_number=from_number,
        to_number=to_number,
        call_id=call_id,
    )
    rows, _ = await call_queries.history(c.uow, workspace_id, f, limit=limit, offset=offset)
    text = call_queries.export_csv(
        ((r.call, r.agent_name, recording_url(c, r.call) or "") for r in rows),
        include_analysis=include_analysis,
    )
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="call-history.csv"'},
    )


@router.patch(
    "/campaign/terminate", response_model=Message, tags=["Campaigns"], summary="Stop queued calls"
)
async def terminate_calls(
    c: ContainerDep, workspace_id: WorkspaceId, body: TerminateCalls
) -> Message:
    await termination.terminate(
        c.uow,
        c.jobs,
        workspace_id,
        termination.Terminate(
            agent_id=body.agent_id,
            call_ids=tuple(body.call_ids),
            campaign_id=body.campaign_id,
            mobile_numbers=tuple(body.mobile_numbers),
        ),
    )
    return Message(message="Calls terminated successfully!")


@router.get(
    "/recordings/{call_id}.wav",
    name=RECORDING_ROUTE,
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}, 403: {"description": "expired or bad link"}},
    summary="A call's recording (signed link from history or call details)",
)
async def recording(
    c: ContainerDep,
    call_id: str,
    expires: Annotated[int, Query(ge=0, le=2**40)],
    signature: Annotated[str, Query(max_length=128)],
) -> FileResponse:
    if not c.recordings.verify(call_id, expires, signature):
        raise Forbidden("This recording link has expired or is not valid")
    path = c.recordings.find(call_id)
    if path is None:
        raise NotFound("Recording not found")
    return FileResponse(path, media_type="audio/wav")
