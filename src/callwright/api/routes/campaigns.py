"""Campaigns (ringg-api.md §2.6) and our pause/resume/progress paths."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from callwright.api.deps import ContainerDep, PageDep, WorkspaceId
from callwright.api.schemas.campaigns import (
    BalanceResponse,
    CampaignList,
    CampaignOut,
    CampaignProgress,
    ContactProgress,
    FromList,
    MakeCallAsync,
    MakeCallAsyncResponse,
    Pagination,
    RowErrorOut,
    SavedResponse,
    StartCampaign,
    StartCampaignV2,
    StartedResponse,
    UploadStatus,
)
from callwright.api.schemas.common import ERRORS
from callwright.bootstrap import Container
from callwright.db.models_contacts import ContactList
from callwright.db.repositories import contacts as contacts_repo
from callwright.domain.errors import NotFound
from callwright.jobs.port import JobSignals
from callwright.services import campaign_start, campaign_upload, campaigns
from callwright.services.contact_import import ImportResult, InvalidRows

router = APIRouter(tags=["Campaigns"], responses=ERRORS)
INVALID_ROWS_ROUTE = "campaign_invalid_rows"

FormText = Annotated[str, Form(max_length=20_000)]
OptionalFormText = Annotated[str | None, Form(max_length=100)]


def _limits(c: Container) -> campaign_upload.Limits:
    return campaign_upload.Limits(
        max_rows=c.settings.csv_max_rows,
        max_bytes=c.settings.csv_max_bytes,
        invalid_rows_dir=c.settings.data_dir / "invalid-rows",
    )


def _invalid_rows(result: ImportResult) -> list[RowErrorOut]:
    return [RowErrorOut(row_number=e.row_number, reason=e.reason) for e in result.row_errors]


def _rejected(exc: InvalidRows) -> JSONResponse:
    """Bad rows and no permission to skip them: 400 naming each rejected row."""
    r = exc.result
    return JSONResponse(
        status_code=400,
        content={
            "detail": exc.message,
            "error": {"code": "invalid_rows", "message": exc.message},
            "list_id": r.list_id,
            "total_rows": r.total_rows,
            "successful_rows": 0,
            "failed_rows": r.failed_rows,
            "invalid_rows": [e.model_dump() for e in _invalid_rows(r)],
        },
    )


async def _save(
    c: Container,
    workspace_id: str,
    file: UploadFile,
    form: campaign_upload.CampaignForm,
) -> tuple[str, ImportResult] | JSONResponse:
    try:
        campaign, result = await campaign_upload.save(
            c.uow, workspace_id, form, file.file, _limits(c)
        )
    except InvalidRows as exc:
        return _rejected(exc)
    return campaign.id, result


async def campaign_form(
    variables_map: FormText,
    agent_id: Annotated[str, Form(max_length=36)],
    country_code: Annotated[str, Form(max_length=8)],
    campaign_name: Annotated[str, Form(max_length=200)],
    call_config: FormText = "{}",
    campaign_start_time: OptionalFormText = None,
    campaign_end_time: OptionalFormText = None,
    remove_invalid_rows: Annotated[bool, Form()] = False,
    transliterate_callee_name: Annotated[bool, Form()] = False,
) -> campaign_upload.CampaignForm:
    """The form fields shared by /campaign/save and /campaign/upload-csv."""
    return campaign_upload.CampaignForm(
        agent_id=agent_id,
        campaign_name=campaign_name,
        country_code=country_code,
        variables_map=variables_map,
        call_config=call_config,
        campaign_start_time=campaign_start_time,
        campaign_end_time=campaign_end_time,
        remove_invalid_rows=remove_invalid_rows,
    )


CampaignFormDep = Annotated[campaign_upload.CampaignForm, Depends(campaign_form)]
CsvFile = Annotated[UploadFile, File(description="CSV with a 'Mobile Number' column")]


async def saved_response(
    c: Container, workspace_id: str, file: UploadFile, form: campaign_upload.CampaignForm
) -> Any:
    saved = await _save(c, workspace_id, file, form)
    if isinstance(saved, JSONResponse):
        return saved
    list_id, result = saved
    return SavedResponse(
        list_id=list_id,
        custom_args_values=[
            {**row.variables, "callee_name": row.callee_name, "mobile_number": row.mobile_number}
            for row in result.preview
        ],
        total_rows=result.total_rows,
        successful_rows=result.successful_rows,
        failed_rows=result.failed_rows,
        invalid_rows=_invalid_rows(result),
    )


@router.post(
    "/campaign/save", response_model=SavedResponse, summary="Upload a list, create a campaign"
)
async def save_campaign(
    c: ContainerDep, workspace_id: WorkspaceId, file: CsvFile, form: CampaignFormDep
) -> Any:
    return await saved_response(c, workspace_id, file, form)


@router.post("/campaign/upload-csv", response_model=UploadStatus, summary="Upload a large list")
async def upload_csv(
    c: ContainerDep, workspace_id: WorkspaceId, file: CsvFile, form: CampaignFormDep
) -> Any:
    saved = await _save(c, workspace_id, file, form)
    if isinstance(saved, JSONResponse):
        return saved
    return await _upload_status(c, workspace_id, saved[0])


async def _upload_status(c: Container, workspace_id: str, list_id: str) -> UploadStatus:
    async with c.uow() as session:
        row = await contacts_repo.get_list(session, workspace_id, list_id)
    if row is None:
        raise NotFound("Bulk list not found")
    return _status_of(c, row)


def _status_of(c: Container, row: ContactList) -> UploadStatus:
    url = None
    if row.invalid_rows_path:
        url = f"{c.settings.base_url()}/ca/api/v0/campaign/upload-status/{row.id}/invalid-rows.csv"
    return UploadStatus(
        bulk_list_id=row.id,
        status=row.status,
        campaign_name=row.name,
        total_callees=row.successful_rows,
        invalidated_rows_count=row.failed_rows,
        invalidated_rows_csv_url=url,
        total_rows=row.total_rows,
        processed_rows=row.successful_rows + row.failed_rows,
        successful_rows=row.successful_rows,
        failed_rows=row.failed_rows,
        error=row.error,
    )


@router.get("/campaign/upload-status/{bulk_list_id}", response_model=UploadStatus)
async def upload_status(c: ContainerDep, workspace_id: WorkspaceId, bulk_list_id: str) -> Any:
    return await _upload_status(c, workspace_id, bulk_list_id)


@router.get(
    "/campaign/upload-status/{bulk_list_id}/invalid-rows.csv",
    name=INVALID_ROWS_ROUTE,
    response_class=FileResponse,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The rejected rows of an upload, with reasons (ours)",
)
async def invalid_rows(c: ContainerDep, workspace_id: WorkspaceId, bulk_list_id: str) -> Any:
    async with c.uow() as session:
        row = await contacts_repo.get_list(session, workspace_id, bulk_list_id)
    if row is None or not row.invalid_rows_path:
        raise NotFound("No rejected rows for this list")
    return FileResponse(row.invalid_rows_path, media_type="text/csv", filename="invalid_rows.csv")


@router.post("/campaign/check-balance/{bulk_list_id}", response_model=BalanceResponse)
async def check_balance(c: ContainerDep, workspace_id: WorkspaceId, bulk_list_id: str) -> Any:
    campaign = await campaigns.get(c.uow, workspace_id, bulk_list_id)
    async with c.uow() as session:
        row = await contacts_repo.get_list(session, workspace_id, campaign.list_id)
    contacts = row.successful_rows if row else 0
    b = await campaigns.balance(
        c.uow,
        workspace_id,
        bulk_list_id,
        contacts=contacts,
        credits_per_minute=c.settings.credits_per_minute,
    )
    return BalanceResponse(
        status=b.status,
        bulk_list_id=bulk_list_id,
        message="Sufficient balance" if b.sufficient else "Insufficient balance: add credits",
        required_credits=b.required,
        available_credits=b.available,
        sufficient_balance=b.sufficient,
    )


async def _start(c: Container, workspace_id: str, req: campaign_start.StartRequest) -> Any:
    started = await campaign_start.start_campaign(
        c.uow,
        c.jobs.enqueue,
        workspace_id,
        req,
        credits_per_minute=c.settings.credits_per_minute,
        workspace_default_cap=c.settings.workspace_max_concurrent_calls,
    )
    return started


@router.post("/campaign/start", response_model=StartedResponse, summary="Start a campaign")
async def start(c: ContainerDep, workspace_id: WorkspaceId, body: StartCampaign) -> Any:
    req = campaign_start.StartRequest(
        campaign_id=body.list_id,
        agent_id=body.agent_id,
        from_numbers=tuple(body.from_numbers),
        max_concurrent_calls=body.max_concurrent_calls,
    )
    started = await _start(c, workspace_id, req)
    return StartedResponse(has_ongoing_calls=started.has_ongoing_calls)


@router.post("/campaign/v2/start", response_model=StartedResponse, summary="Start with a pool")
async def start_v2(c: ContainerDep, workspace_id: WorkspaceId, body: StartCampaignV2) -> Any:
    req = campaign_start.StartRequest(
        campaign_id=body.list_id,
        agent_id=body.agent_id,
        number_pool_id=body.number_pool_id,
        max_concurrent_calls=body.max_concurrent_calls,
    )
    started = await _start(c, workspace_id, req)
    return StartedResponse(has_ongoing_calls=started.has_ongoing_calls)


@router.post("/campaign/make-call-async", response_model=MakeCallAsyncResponse)
async def make_call_async(c: ContainerDep, workspace_id: WorkspaceId, body: MakeCallAsync) -> Any:
    campaign = await campaigns.get(c.uow, workspace_id, body.bulk_list_id)
    start_at, end_at = campaign_upload.times(
        {**campaign.call_config, **body.call_config},
        body.campaign_start_time,
        body.campaign_end_time,
    )
    req = campaign_start.StartRequest(
        campaign_id=body.bulk_list_id,
        agent_id=body.agent_id,
        from_numbers=tuple(body.from_numbers or ()),
        number_pool_id=body.number_pool_id,
        call_config=body.call_config,
        start_at=start_at,
        end_at=end_at,
        concurrency_percentage=body.concurrency_percentage,
        max_concurrent_calls=body.max_concurrent_calls,
    )
    await _start(c, workspace_id, req)
    return MakeCallAsyncResponse(bulk_list_id=body.bulk_list_id)


@router.post("/campaign/from-list", response_model=CampaignOut, summary="New campaign, saved list")
async def from_list(c: ContainerDep, workspace_id: WorkspaceId, body: FromList) -> Any:
    campaign = await campaign_upload.from_list(
        c.uow,
        workspace_id,
        list_id=body.list_id,
        agent_id=body.agent_id,
        name=body.campaign_name,
        call_config=body.call_config,
        start=body.campaign_start_time,
        end=body.campaign_end_time,
    )
    return CampaignOut.of(campaign, None)


@router.get("/campaign/all", response_model=CampaignList, summary="List campaigns")
async def all_campaigns(
    c: ContainerDep,
    workspace_id: WorkspaceId,
    page: PageDep,
    call_count: Annotated[bool, Query()] = True,
) -> Any:
    rows, total = await campaigns.page(
        c.uow, workspace_id, limit=page.limit, offset=page.offset, with_counts=call_count
    )
    return CampaignList(
        campaigns=[CampaignOut.of(r.campaign, r.counts) for r in rows],
        pagination=Pagination(total=total, limit=page.limit, offset=page.offset),
    )


@router.post("/campaign/{campaign_id}/pause", response_model=CampaignOut, summary="Pause (ours)")
async def pause(c: ContainerDep, workspace_id: WorkspaceId, campaign_id: str) -> Any:
    return CampaignOut.of(await campaigns.pause(c.uow, workspace_id, campaign_id), None)


@router.post("/campaign/{campaign_id}/resume", response_model=CampaignOut, summary="Resume (ours)")
async def resume(c: ContainerDep, workspace_id: WorkspaceId, campaign_id: str) -> Any:
    return CampaignOut.of(
        await campaigns.resume(
            c.uow, c.jobs if isinstance(c.jobs, JobSignals) else None, workspace_id, campaign_id
        ),
        None,
    )


@router.get(
    "/campaign/{campaign_id}/status",
    response_model=CampaignProgress,
    summary="Progress per contact (ours)",
)
async def progress(
    c: ContainerDep, workspace_id: WorkspaceId, campaign_id: str, page: PageDep
) -> Any:
    campaign = await campaigns.get(c.uow, workspace_id, campaign_id)
    counts = await campaigns.counts(c.uow, workspace_id, campaign_id)
    calls = await campaigns.contacts_page(
        c.uow, workspace_id, campaign_id, limit=page.limit, offset=page.offset
    )
    return CampaignProgress(
        campaign=CampaignOut.of(campaign, counts),
        by_status=counts.by_status,
        contacts=[ContactProgress.of(call) for call in calls],
        pagination=Pagination(total=counts.total, limit=page.limit, offset=page.offset),
    )
