"""Reading calls: history, details, and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from callwright.db.models import Call
from callwright.db.repositories import calls as repo
from callwright.db.repositories.calls import CallFilter, CallRow
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.errors import NotFound


async def history(
    uow: SessionFactory, workspace_id: str, f: CallFilter, *, limit: int, offset: int
) -> tuple[list[CallRow], int | Literal["many"]]:
    async with uow() as session:
        rows = await repo.page(session, workspace_id, f, limit=limit, offset=offset)
        if len(rows) < limit and (rows or offset == 0):
            total: int | Literal["many"] = offset + len(
                rows
            )  # a short page ends the list: no count needed
        else:
            total = await repo.capped_total(session, workspace_id, f)
    return rows, total


async def details(uow: SessionFactory, workspace_id: str, call_id: str) -> Call:
    async with uow() as session:
        call = await repo.get(session, workspace_id, call_id)
    if call is None:
        raise NotFound("Call not found")
    return call


EXPORT_COLUMNS = (
    "call_id", "created_at", "call_type", "status", "sub_status", "agent_id", "agent_name",
    "from_number", "to_number", "callee_name", "call_duration", "call_cost", "bulk_list_id",
    "voicemail_detected", "recording_url", "transcript", "custom_args_values",
)  # fmt: skip
ANALYSIS_COLUMNS = ("summary", "classification", "client_analysis")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """Stop spreadsheets from running a cell as a formula (CSV injection, OWASP)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_csv(rows: Iterable[tuple[Call, str, str]], *, include_analysis: bool) -> str:
    """Rows of (call, agent name, recording URL) as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = EXPORT_COLUMNS + (ANALYSIS_COLUMNS if include_analysis else ())
    writer.writerow(columns)
    for call, agent_name, recording_url in rows:
        values: list[object] = [
            call.id, _iso(call.created_at), call.direction, call.status, call.sub_status,
            call.agent_id, agent_name, call.from_number or "", call.to_number, call.callee_name,
            call.call_duration, call.call_cost, call.bulk_list_id or "",
            call.voicemail_detected, recording_url,
            json.dumps(call.transcript, ensure_ascii=False),
            json.dumps(call.custom_args_values, ensure_ascii=False),
        ]  # fmt: skip
        if include_analysis:
            analysis = call.platform_analysis or {}
            values += [
                analysis.get("summary", ""),
                analysis.get("classification", ""),
                json.dumps(call.client_analysis or {}, ensure_ascii=False),
            ]
        writer.writerow([neutralise(str(v)) for v in values])
    return out.getvalue()


def _iso(value: datetime | None) -> str:
    return value.isoformat(timespec="microseconds") if value else ""
