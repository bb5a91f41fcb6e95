"""Analytics: dashboards over the workspace's calls (Ringg §2.10).

Every endpoint takes the same filters: ``start_date`` / ``end_date`` (``YYYY-MM-DD`` or ISO 8601
with an offset; see ``services/analytics.py`` for the window rules), ``agent_id`` (404 when the
agent is not the caller's), ``bulk_list_id`` (campaign) and ``voicemail`` (only calls where
voicemail was / was not detected). Figures are computed in the database for each request, so
``cached`` is always false. Bad dates, or an end before the start, answer 400.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from callwright.api.deps import ContainerDep, WorkspaceId
from callwright.api.schemas.analytics import (
    ClassificationAnalytics,
    DrillDownAnalytics,
    DurationDistribution,
    NumberAnalytics,
    PlatformAnalytics,
)
from callwright.api.schemas.common import ERRORS
from callwright.domain.errors import InvalidRequest
from callwright.services import analytics

router = APIRouter(prefix="/analytics", tags=["Analytics"], responses=ERRORS)

_DATE_HELP = (
    "YYYY-MM-DD (a whole day) or ISO 8601 with an offset, e.g. 2025-09-25T00:00:00+05:30. "
    "Days are read at the offset of whichever date carries one, else UTC. "
    "Default window: the 30 days up to now."
)


def _query(
    start_date: Annotated[
        str | None, Query(max_length=40, description="Start (inclusive). " + _DATE_HELP)
    ] = None,
    end_date: Annotated[
        str | None, Query(max_length=40, description="End (inclusive). " + _DATE_HELP)
    ] = None,
    agent_id: Annotated[str | None, Query(max_length=64, description="Only this agent")] = None,
    bulk_list_id: Annotated[
        str | None, Query(max_length=64, description="Only this campaign (bulk list)")
    ] = None,
    voicemail: Annotated[
        bool | None, Query(description="true: only voicemail calls; false: none of them")
    ] = None,
) -> analytics.Query:
    for name, value in (
        ("start_date", start_date), ("end_date", end_date), ("agent_id", agent_id),
        ("bulk_list_id", bulk_list_id),
    ):  # fmt: skip
        if value is not None and "\x00" in value:  # PostgreSQL refuses NUL in text
            raise InvalidRequest(f"Invalid characters in {name}", code="invalid_parameter")
    return analytics.Query(start_date, end_date, agent_id, bulk_list_id, voicemail)


AnalyticsQuery = Annotated[analytics.Query, Depends(_query)]


@router.get(
    "/platform-analytics",
    response_model=PlatformAnalytics,
    summary="Platform analytics",
    description=(
        "Totals for the window (`metrics_summary`: calls, connected calls, connectivity %, "
        "average and total duration, cost, voicemails, workspace numbers) and their breakdown "
        "(`performance_metrics`: calls per status, per day, per agent). A call is connected "
        "when it completed without voicemail; average_duration is over connected calls."
    ),
)
async def platform_analytics(
    c: ContainerDep, workspace_id: WorkspaceId, q: AnalyticsQuery
) -> PlatformAnalytics:
    """Summary and breakdown of the workspace's calls; one grouped query over the window."""
    return PlatformAnalytics.of(await analytics.platform(c.uow, workspace_id, q))


@router.get(
    "/drill-down-analytics",
    response_model=DrillDownAnalytics,
    summary="Campaign drill-down",
    description=(
        "One campaign's calls: totals, calls per status and per (status, sub_status) — the "
        "carrier's failure causes and end reasons — and per day. `bulk_list_id` is required "
        "(400 without it); an id with no calls in this workspace gives zeros."
    ),
)
async def drill_down_analytics(
    c: ContainerDep, workspace_id: WorkspaceId, q: AnalyticsQuery
) -> DrillDownAnalytics:
    """Totals and distributions of one bulk list's calls."""
    result = await analytics.drill_down(c.uow, workspace_id, q)
    assert q.bulk_list_id is not None  # drill_down refused the request otherwise
    return DrillDownAnalytics.of(q.bulk_list_id, result)


@router.get(
    "/number-analytics",
    response_model=NumberAnalytics,
    summary="Per caller number",
    description=(
        "One row per caller number (`from_number`) used in the window, busiest first: totals, "
        "connectivity and calls per status; `number_id` names the workspace number when it is "
        "still live."
    ),
)
async def number_analytics(
    c: ContainerDep, workspace_id: WorkspaceId, q: AnalyticsQuery
) -> NumberAnalytics:
    """Calls grouped by the number they were placed from."""
    return NumberAnalytics.of(await analytics.numbers(c.uow, workspace_id, q))


@router.get(
    "/duration-distribution",
    response_model=DurationDistribution,
    summary="Call duration histogram",
    description=(
        "Completed calls per duration bucket: [0,10) s, [10,30) s, [30,60) s, [1,2) min, "
        "[2,5) min, [5,10) min, 10 min and more. Buckets are half-open (`min_seconds` "
        "inclusive, `max_seconds` exclusive); every bucket is listed, zeros included."
    ),
)
async def duration_distribution(
    c: ContainerDep, workspace_id: WorkspaceId, q: AnalyticsQuery
) -> DurationDistribution:
    """Histogram of completed calls' durations."""
    return DurationDistribution.of(await analytics.durations(c.uow, workspace_id, q))


@router.get(
    "/classification-analytics",
    response_model=ClassificationAnalytics,
    summary="Calls per classification label",
    description=(
        "Counts per post-call classification label (the disposition in platform_analysis), "
        "most frequent first. With `agent_id`, every label the agent defines is listed, zeros "
        "included. Also: analysed calls, analysed calls without a label, and calls whose "
        "analysis is pending or failed."
    ),
)
async def classification_analytics(
    c: ContainerDep, workspace_id: WorkspaceId, q: AnalyticsQuery
) -> ClassificationAnalytics:
    """Classification counts from the calls' post-call analysis."""
    return ClassificationAnalytics.of(await analytics.classifications(c.uow, workspace_id, q))
