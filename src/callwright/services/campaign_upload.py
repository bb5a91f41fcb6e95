"""Creating a campaign from a CSV upload, or from a contact list uploaded before.

The campaign and its contact list share one id (Ringg's ``list_id`` / ``bulk_list_id``). A
campaign made from an existing list gets an id of its own and points at that list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from callwright.db.models_campaigns import Campaign
from callwright.db.repositories import agents as agents_repo
from callwright.db.repositories import contacts as contacts_repo
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.assistant import CallConfig
from callwright.domain.campaign import CampaignStatus, parse_campaign_time
from callwright.domain.errors import InvalidRequest, NotFound
from callwright.domain.ids import new_id
from callwright.services.contact_import import ImportResult, import_contacts


@dataclass(frozen=True, slots=True)
class CampaignForm:
    """The form fields of /campaign/save and /campaign/upload-csv, as sent (JSON as text)."""

    agent_id: str
    campaign_name: str
    country_code: str
    variables_map: str
    call_config: str = "{}"
    campaign_start_time: str | None = None
    campaign_end_time: str | None = None
    remove_invalid_rows: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    max_rows: int
    max_bytes: int
    invalid_rows_dir: Path


def json_object(text: str, field: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidRequest(f"{field} must be a JSON object: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise InvalidRequest(f"{field} must be a JSON object")
    return value


def _variables_map(text: str) -> dict[str, str]:
    mapping = json_object(text, "variables_map")
    if not all(isinstance(v, str) for v in mapping.values()):
        raise InvalidRequest("variables_map values must be CSV column names (strings)")
    return {str(k): str(v) for k, v in mapping.items()}


def _call_config(text: str) -> dict[str, Any]:
    return checked_call_config(json_object(text, "call_config"))


def checked_call_config(overrides: dict[str, Any]) -> dict[str, Any]:
    try:
        CallConfig.model_validate(overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InvalidRequest(f"Invalid call_config: {where} {err['msg']}") from exc
    return overrides


def times(
    call_config: Mapping[str, Any], start: str | None, end: str | None
) -> tuple[datetime | None, datetime | None]:
    tz = CallConfig.model_validate(call_config).call_time.timezone
    start_at = parse_campaign_time(start, tz, field="campaign_start_time") if start else None
    end_at = parse_campaign_time(end, tz, field="campaign_end_time") if end else None
    if start_at and end_at and end_at <= start_at:
        raise InvalidRequest("campaign_end_time must be after campaign_start_time")
    if end_at and end_at <= datetime.now(UTC):
        raise InvalidRequest("campaign_end_time must be in the future")
    return start_at, end_at


async def save(
    uow: SessionFactory, workspace_id: str, form: CampaignForm, file: IO[bytes], limits: Limits
) -> tuple[Campaign, ImportResult]:
    """Create the campaign (``draft``) and import its contacts. Import errors are raised
    after the campaign is marked ``failed``, with the bad rows reported."""
    variables_map = _variables_map(form.variables_map)
    call_config = _call_config(form.call_config)
    start_at, end_at = times(call_config, form.campaign_start_time, form.campaign_end_time)
    name = form.campaign_name.strip()
    if not name or len(name) > 200:
        raise InvalidRequest("campaign_name must be 1 to 200 characters")
    campaign_id = new_id()
    async with uow.begin() as session:
        if await agents_repo.with_version(session, workspace_id, form.agent_id, None) is None:
            raise NotFound("Agent not found")
        await contacts_repo.create_list(
            session,
            workspace_id,
            name=name,
            country_code=form.country_code,
            variables_map=variables_map,
            agent_id=form.agent_id,
            list_id=campaign_id,
        )
        campaign = Campaign(
            id=campaign_id,
            workspace_id=workspace_id,
            list_id=campaign_id,
            agent_id=form.agent_id,
            name=name,
            status=CampaignStatus.DRAFT,
            country_code=form.country_code,
            call_config=call_config,
            variables_map=variables_map,
            start_at=start_at,
            end_at=end_at,
            from_number_ids=[],
            concurrency_percentage=0,
            total_contacts=0,
            required_credits=0.0,
            pacer_generation=0,
        )
        session.add(campaign)
    try:
        result = await import_contacts(
            uow,
            workspace_id,
            campaign_id,
            file,
            variables_map=variables_map,
            country_code=form.country_code,
            remove_invalid_rows=form.remove_invalid_rows,
            max_rows=limits.max_rows,
            max_bytes=limits.max_bytes,
            invalid_rows_dir=limits.invalid_rows_dir,
        )
    except InvalidRequest as exc:
        async with uow.begin() as session:
            row = await session.get(Campaign, campaign_id)
            assert row is not None
            row.status, row.error = CampaignStatus.FAILED, exc.message
        raise
    async with uow.begin() as session:
        row = await session.get(Campaign, campaign_id)
        assert row is not None
        row.total_contacts = result.successful_rows
    return row, result


async def from_list(
    uow: SessionFactory,
    workspace_id: str,
    *,
    list_id: str,
    agent_id: str,
    name: str,
    call_config: dict[str, Any],
    start: str | None = None,
    end: str | None = None,
) -> Campaign:
    """A new campaign over a list uploaded before (no second upload)."""
    config = checked_call_config(call_config)
    start_at, end_at = times(config, start, end)
    async with uow.begin() as session:
        # Locked, as deleting the list locks it: the delete then sees this campaign and refuses.
        contact_list = await contacts_repo.get_list(session, workspace_id, list_id, for_update=True)
        if contact_list is None:
            raise NotFound("Contact list not found")
        if contact_list.status != "completed":
            raise InvalidRequest(f"The list is {contact_list.status}; it is not ready to call")
        if await agents_repo.with_version(session, workspace_id, agent_id, None) is None:
            raise NotFound("Agent not found")
        campaign = Campaign(
            id=new_id(),
            workspace_id=workspace_id,
            list_id=list_id,
            agent_id=agent_id,
            name=name.strip()[:200] or contact_list.name,
            status=CampaignStatus.DRAFT,
            country_code=contact_list.country_code,
            call_config=config,
            variables_map=dict(contact_list.variables_map),
            start_at=start_at,
            end_at=end_at,
            from_number_ids=[],
            concurrency_percentage=0,
            total_contacts=contact_list.successful_rows,
            required_credits=0.0,
            pacer_generation=0,
        )
        session.add(campaign)
    return campaign
