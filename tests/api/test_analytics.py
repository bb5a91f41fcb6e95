"""Analytics endpoints on SQLite and PostgreSQL: figures from real call rows checked against
sums worked out by hand, filters, bad input, and another workspace's calls never counted."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from callwright.api.app import create_app
from callwright.bootstrap import Container, Overrides
from callwright.db.models import Agent, Call
from callwright.domain.errors import InvalidRequest
from callwright.services.analytics import window
from callwright.settings import Settings
from tests.api.bodies import public_agent
from tests.conftest import Tenant

N1, N2 = "+15550001111", "+15550002222"
LABELS = {"interested": "wants a demo", "not_interested": "declined", "callback": "call later"}


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    # Aggregates read rows; no job runs here, so the in-memory runner spares a DBOS start.
    application = create_app(settings, overrides=Overrides(memory_jobs=True))
    async with application.router.lifespan_context(application):
        yield application


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def call(
    workspace_id: str,
    agent_id: str,
    created: datetime,
    status: str,
    sub_status: str = "ACCEPTED",
    *,
    duration: float = 0.0,
    cost: float = 0.0,
    voicemail: bool = False,
    from_number: str | None = N1,
    bulk_list_id: str | None = None,
    analysis: str = "not_enabled",
    label: str | None = None,
) -> Call:
    return Call(
        id=str(uuid.uuid4()),
        workspace_id=workspace_id,
        agent_id=agent_id,
        agent_version_id=str(uuid.uuid4()),
        status=status,
        sub_status=sub_status,
        to_number="+919800000000",
        from_number=from_number,
        created_at=created,
        due_at=created,
        call_duration=duration,
        call_cost=cost,
        voicemail_detected=voicemail,
        bulk_list_id=bulk_list_id,
        platform_analysis_status=analysis,
        platform_analysis={"summary": "s", "classification": label}
        if analysis == "success"
        else None,
    )


@dataclass
class Seeded:
    a: Tenant
    b: Tenant
    x: str  # agent X of workspace A, with classification labels
    y: str  # agent Y of workspace A
    bx: str  # workspace B's agent
    campaign: str


async def _agent(t: Tenant) -> str:
    r = await t.client.post("/public/agent", json=public_agent())
    assert r.status_code == 200, r.text
    agent_id: str = r.json()["data"]["id"]
    return agent_id


@pytest.fixture
async def seeded(tenant_factory: Any, container: Container) -> Seeded:
    """Workspace A: nine calls around 2025-09-24..27 plus one from two days ago. Workspace B:
    calls at the same moments, with A's agent id, caller number and campaign id."""
    a: Tenant = await tenant_factory(name="A")
    b: Tenant = await tenant_factory(name="B")
    x, y, bx = await _agent(a), await _agent(a), await _agent(b)
    campaign = str(uuid.uuid4())
    ws = a.workspace_id
    rows = [
        # 1..9, referred to by number in the expectations below
        call(ws, x, at("2025-09-24T10:00"), "completed", duration=45, cost=1.0,
             bulk_list_id=campaign, analysis="success", label="interested"),
        call(ws, x, at("2025-09-24T23:30"), "completed", duration=125, cost=2.5,
             bulk_list_id=campaign, analysis="success", label="not_interested"),
        call(ws, y, at("2025-09-25T08:00"), "completed", "VOICEMAIL_DETECTED", duration=20,
             cost=0.5, voicemail=True, from_number=N2, analysis="success", label=None),
        call(ws, y, at("2025-09-25T09:00"), "failed", "busy line", from_number=N2,
             bulk_list_id=campaign),
        call(ws, x, at("2025-09-25T12:00"), "failed", "no answer", bulk_list_id=campaign),
        call(ws, x, at("2025-09-26T01:00"), "completed", duration=5, cost=0.2,
             analysis="success", label="interested"),
        call(ws, y, at("2025-09-26T02:00"), "registered", "QUEUED", from_number=N2,
             bulk_list_id=campaign),
        call(ws, x, at("2025-09-26T03:00"), "completed", duration=700, cost=10.0,
             from_number=N2, analysis="pending"),
        call(ws, x, at("2025-09-27T10:00"), "cancelled", "USER_TERMINATED"),
        # 10: inside the default window (the 30 days up to now)
        call(ws, y, datetime.now(UTC) - timedelta(days=2), "completed", duration=30, cost=0.7,
             from_number=N2),
    ]  # fmt: skip
    other = [
        call(b.workspace_id, who, at(moment), "completed", duration=999, cost=99.0,
             bulk_list_id=campaign, analysis="success", label="interested")
        for who in (x, bx)
        for moment in ("2025-09-24T10:00", "2025-09-25T09:00", "2025-09-26T03:00")
    ]  # fmt: skip
    async with container.uow.begin() as session:
        session.add_all(rows + other)
        await session.execute(
            update(Agent).where(Agent.id == x).values(classification_labels=LABELS)
        )
    return Seeded(a, b, x, y, bx, campaign)


WINDOW = {"start_date": "2025-09-24", "end_date": "2025-09-26"}  # calls 1..8


async def get(t: Tenant, path: str, **params: Any) -> dict[str, Any]:
    r = await t.client.get(f"/analytics/{path}", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def statuses(**counts: int) -> dict[str, int]:
    every = ("registered", "ongoing", "retry", "completed", "failed", "error", "cancelled",
             "forwarded")  # fmt: skip
    return {s: counts.get(s, 0) for s in every}


async def test_platform_analytics_figures(seeded: Seeded) -> None:
    body = await get(seeded.a, "platform-analytics", **WINDOW)
    assert body["cached"] is False
    assert body["metrics_summary"] == {
        "total_calls": 8,
        "connected_calls": 4,  # 1, 2, 6, 8 (3 is a voicemail)
        "connectivity": 50.0,
        "total_duration": 895.0,  # 45 + 125 + 20 + 5 + 700
        "average_duration": 218.75,  # (45 + 125 + 5 + 700) / 4
        "total_cost": 14.2,
        "voicemail_detected": 1,
        "workspace_numbers": 1,  # the sim number every test workspace gets
    }
    perf = body["performance_metrics"]
    assert perf["status_distribution"] == statuses(completed=5, failed=2, registered=1)
    assert perf["calls_per_day"] == [
        {"date": "2025-09-24", "total_calls": 2, "connected_calls": 2, "total_duration": 170.0,
         "total_cost": 3.5},
        {"date": "2025-09-25", "total_calls": 3, "connected_calls": 0, "total_duration": 20.0,
         "total_cost": 0.5},
        {"date": "2025-09-26", "total_calls": 3, "connected_calls": 2, "total_duration": 705.0,
         "total_cost": 10.2},
    ]  # fmt: skip
    name = public_agent()["agent_name"]
    assert perf["agents"] == [
        {"agent_id": seeded.x, "agent_name": name, "total_calls": 5, "connected_calls": 4,
         "connectivity": 80.0, "total_duration": 875.0, "average_duration": 218.75,
         "total_cost": 13.7},
        {"agent_id": seeded.y, "agent_name": name, "total_calls": 3, "connected_calls": 0,
         "connectivity": 0.0, "total_duration": 20.0, "average_duration": 0.0,
         "total_cost": 0.5},
    ]  # fmt: skip
    assert body["period"] == {
        "start": "2025-09-24T00:00:00.000000+00:00",
        "end": "2025-09-27T00:00:00.000000+00:00",
        "utc_offset": "+00:00",
    }


async def test_days_follow_the_offset_of_the_dates(seeded: Seeded) -> None:
    body = await get(
        seeded.a,
        "platform-analytics",
        start_date="2025-09-24T00:00:00+05:30",
        end_date="2025-09-26T23:59:59.999999+05:30",
    )
    days = [(d["date"], d["total_calls"]) for d in body["performance_metrics"]["calls_per_day"]]
    # call 2 (23:30 UTC on the 24th) is 05:00 on the 25th in India
    assert days == [("2025-09-24", 1), ("2025-09-25", 4), ("2025-09-26", 3)]
    assert body["period"]["utc_offset"] == "+05:30"
    # A plain end day is read at the start's offset: the same window.
    same = await get(
        seeded.a,
        "platform-analytics",
        start_date="2025-09-24T00:00:00+05:30",
        end_date="2025-09-26",
    )
    assert same["metrics_summary"] == body["metrics_summary"]


async def test_filters(seeded: Seeded) -> None:
    a = seeded.a
    by_agent = await get(a, "platform-analytics", agent_id=seeded.x, **WINDOW)
    assert by_agent["metrics_summary"]["total_calls"] == 5
    assert [g["agent_id"] for g in by_agent["performance_metrics"]["agents"]] == [seeded.x]
    one_day = await get(a, "platform-analytics", start_date="2025-09-25", end_date="2025-09-25")
    assert one_day["performance_metrics"]["status_distribution"] == statuses(completed=1, failed=2)
    # A date-time end is inclusive to the instant: call 1 is at exactly 10:00.
    instant = await get(
        a, "platform-analytics", start_date="2025-09-24", end_date="2025-09-24T10:00:00Z"
    )
    assert instant["metrics_summary"]["total_calls"] == 1
    no_vm = await get(a, "platform-analytics", voicemail="false", **WINDOW)
    assert no_vm["metrics_summary"]["total_calls"] == 7
    only_vm = await get(a, "platform-analytics", voicemail="true", **WINDOW)
    assert only_vm["metrics_summary"]["total_calls"] == 1
    in_campaign = await get(a, "platform-analytics", bulk_list_id=seeded.campaign, **WINDOW)
    assert in_campaign["metrics_summary"]["total_calls"] == 5
    default = await get(a, "platform-analytics")  # the 30 days up to now: call 10 only
    assert default["metrics_summary"]["total_calls"] == 1
    assert default["metrics_summary"]["total_duration"] == 30.0
    wide = await get(a, "platform-analytics", start_date="2025-01-01", end_date="2025-12-31")
    assert wide["metrics_summary"]["total_calls"] == 9


async def test_drill_down(seeded: Seeded) -> None:
    body = await get(seeded.a, "drill-down-analytics", bulk_list_id=seeded.campaign, **WINDOW)
    perf = body["performance_metrics"]
    assert body["cached"] is False
    assert {k: perf[k] for k in perf if k not in ("status_distribution", "calls_per_day",
                                                   "sub_status_distribution")} == {
        "bulk_list_id": seeded.campaign,  # calls 1, 2, 4, 5, 7
        "total_calls": 5, "connected_calls": 2, "connectivity": 40.0, "total_duration": 170.0,
        "average_duration": 85.0, "total_cost": 3.5, "voicemail_detected": 0,
    }  # fmt: skip
    assert perf["status_distribution"] == statuses(completed=2, failed=2, registered=1)
    assert perf["sub_status_distribution"] == {
        "completed": {"ACCEPTED": 2},
        "failed": {"busy line": 1, "no answer": 1},
        "registered": {"QUEUED": 1},
    }
    assert [d["total_calls"] for d in perf["calls_per_day"]] == [2, 2, 1]
    r = await seeded.a.client.get("/analytics/drill-down-analytics", params=WINDOW)
    assert r.status_code == 400 and r.json()["detail"] == "bulk_list_id is required"
    unknown = await get(seeded.a, "drill-down-analytics", bulk_list_id=str(uuid.uuid4()), **WINDOW)
    assert unknown["performance_metrics"]["total_calls"] == 0


async def test_number_analytics(seeded: Seeded) -> None:
    body = await get(seeded.a, "number-analytics", **WINDOW)
    rows = body["number_analytics"]
    assert [r["from_number"] for r in rows] == [N1, N2]  # 4 calls each: ties by number
    n1, n2 = rows
    assert n1["number_id"] is None and n2["number_id"] is None  # neither is a workspace number
    assert {k: n1[k] for k in ("total_calls", "connected_calls", "connectivity",
                               "total_duration", "average_duration", "total_cost")} == {
        "total_calls": 4, "connected_calls": 3, "connectivity": 75.0,  # 1, 2, 5, 6
        "total_duration": 175.0, "average_duration": 58.33, "total_cost": 3.7,
    }  # fmt: skip
    assert n1["status_distribution"] == statuses(completed=3, failed=1)
    assert {k: n2[k] for k in ("total_calls", "connected_calls", "total_duration",
                               "average_duration", "total_cost")} == {
        "total_calls": 4, "connected_calls": 1, "total_duration": 720.0,  # 3, 4, 7, 8
        "average_duration": 700.0, "total_cost": 10.5,
    }  # fmt: skip
    assert n2["status_distribution"] == statuses(completed=2, failed=1, registered=1)
    by_agent = await get(seeded.a, "number-analytics", agent_id=seeded.y, **WINDOW)
    assert [(r["from_number"], r["total_calls"]) for r in by_agent["number_analytics"]] == [(N2, 3)]


async def test_number_analytics_names_workspace_numbers(
    tenant: Tenant, container: Container
) -> None:
    agent = await _agent(tenant)
    number = (await tenant.client.get("/workspace/numbers")).json()["workspace_numbers"][0]
    async with container.uow.begin() as session:
        session.add(
            call(tenant.workspace_id, agent, at("2025-09-24T10:00"), "failed",
                 from_number=number["number"])
        )  # fmt: skip
    body = await get(tenant, "number-analytics", **WINDOW)
    assert [(r["from_number"], r["number_id"]) for r in body["number_analytics"]] == [
        (number["number"], number["id"])
    ]


async def test_duration_distribution(seeded: Seeded) -> None:
    body = await get(seeded.a, "duration-distribution", **WINDOW)
    dist = body["duration_distribution"]
    assert [
        (b["label"], b["min_seconds"], b["max_seconds"], b["count"]) for b in dist["buckets"]
    ] == [
        ("0s-10s", 0, 10, 1),  # call 6: 5 s
        ("10s-30s", 10, 30, 1),  # 3: 20 s
        ("30s-1m", 30, 60, 1),  # 1: 45 s
        ("1m-2m", 60, 120, 0),
        ("2m-5m", 120, 300, 1),  # 2: 125 s
        ("5m-10m", 300, 600, 0),
        ("10m+", 600, None, 1),  # 8: 700 s
    ]
    assert (dist["total_calls"], dist["total_duration"], dist["average_duration"]) == (
        5,
        895.0,
        179.0,
    )
    no_vm = await get(seeded.a, "duration-distribution", voicemail="false", **WINDOW)
    assert [b["count"] for b in no_vm["duration_distribution"]["buckets"]] == [1, 0, 1, 0, 1, 0, 1]


async def test_duration_bucket_edges(tenant: Tenant, container: Container) -> None:
    agent = await _agent(tenant)
    edges = [0, 9.99, 10, 29.99, 30, 60, 120, 299.99, 300, 599.99, 600, 3600]
    async with container.uow.begin() as session:
        session.add_all(
            call(tenant.workspace_id, agent, at("2025-09-24T10:00"), "completed", duration=d)
            for d in edges
        )
    body = await get(tenant, "duration-distribution", **WINDOW)
    counts = [b["count"] for b in body["duration_distribution"]["buckets"]]
    assert counts == [2, 2, 1, 1, 2, 2, 2]


async def test_classification_analytics(seeded: Seeded) -> None:
    body = (await get(seeded.a, "classification-analytics", **WINDOW))["classification_analytics"]
    assert body == {
        "counts": {"interested": 2, "not_interested": 1},  # calls 1, 6 and 2
        "total_analysed": 4,  # 1, 2, 3, 6
        "unclassified": 1,  # 3, the voicemail
        "pending_analysis": 1,  # 8
        "failed_analysis": 0,
    }
    assert list(body["counts"]) == ["interested", "not_interested"]  # most frequent first
    by_agent = await get(seeded.a, "classification-analytics", agent_id=seeded.x, **WINDOW)
    assert by_agent["classification_analytics"] == {
        "counts": {"interested": 2, "not_interested": 1, "callback": 0},  # every label of X
        "total_analysed": 3,
        "unclassified": 0,
        "pending_analysis": 1,
        "failed_analysis": 0,
    }


async def test_another_workspaces_calls_are_never_counted(seeded: Seeded) -> None:
    """B's calls share A's agent id, caller number and campaign id, at the same moments."""
    a, b = seeded.a, seeded.b
    assert (await get(a, "platform-analytics", **WINDOW))["metrics_summary"]["total_cost"] == 14.2
    mine = await get(b, "platform-analytics", **WINDOW)
    assert mine["metrics_summary"]["total_calls"] == 6
    assert mine["metrics_summary"]["total_cost"] == 594.0
    # B cannot name A's agent: not found, and nothing about A leaks.
    for path in ("platform-analytics", "number-analytics", "duration-distribution",
                 "classification-analytics"):  # fmt: skip
        r = await b.client.get(f"/analytics/{path}", params={"agent_id": seeded.x, **WINDOW})
        assert r.status_code == 404 and r.json()["detail"] == "Agent not found", path
        assert a.workspace_id not in r.text
    drill = await get(b, "drill-down-analytics", bulk_list_id=seeded.campaign, **WINDOW)
    assert drill["performance_metrics"]["total_calls"] == 6
    assert drill["performance_metrics"]["total_cost"] == 594.0
    numbers = await get(b, "number-analytics", **WINDOW)
    assert [(r["from_number"], r["total_calls"]) for r in numbers["number_analytics"]] == [(N1, 6)]
    classes = await get(b, "classification-analytics", **WINDOW)
    assert classes["classification_analytics"]["counts"] == {"interested": 6}
    durations = await get(a, "duration-distribution", **WINDOW)
    assert durations["duration_distribution"]["total_calls"] == 5  # B's 999 s calls absent


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start_date": "2025-13-01"}, "Invalid date format for start_date"),
        ({"end_date": "yesterday"}, "Invalid date format for end_date"),
        ({"start_date": "2025-02-30"}, "Invalid date format for start_date"),
        ({"start_date": "2025-09-25T00:00:00"}, "start_date needs a time zone offset"),
        ({"start_date": "2025-09-26", "end_date": "2025-09-25"}, "end_date must not be before"),
        (
            {"start_date": "2025-09-25T10:00:00+00:00", "end_date": "2025-09-25T09:00:00Z"},
            "end_date must not be before",
        ),
        ({"start_date": "0001-01-01T00:00:00+05:00"}, "Date out of range"),
    ],
)
async def test_bad_dates_are_400(tenant: Tenant, params: dict[str, str], message: str) -> None:
    for path in ("platform-analytics", "number-analytics", "duration-distribution",
                 "classification-analytics"):  # fmt: skip
        r = await tenant.client.get(f"/analytics/{path}", params=params)
        assert r.status_code == 400, (path, r.text)
        assert r.json()["detail"].startswith(message)
        assert r.json()["error"]["code"] == "invalid_parameter"
    r = await tenant.client.get(
        "/analytics/drill-down-analytics", params={"bulk_list_id": "x", **params}
    )
    assert r.status_code == 400


async def test_other_bad_input(tenant: Tenant, anonymous: Any) -> None:
    c = tenant.client
    r = await c.get("/analytics/platform-analytics", params={"agent_id": str(uuid.uuid4())})
    assert r.status_code == 404 and r.json()["detail"] == "Agent not found"
    r = await c.get("/analytics/platform-analytics", params={"voicemail": "perhaps"})
    assert r.status_code == 422
    r = await c.get("/analytics/platform-analytics", params={"start_date": "2" * 41})
    assert r.status_code == 422
    for name in ("agent_id", "bulk_list_id", "start_date"):
        r = await c.get("/analytics/number-analytics", params={name: "a\x00b"})
        assert r.status_code == 400 and r.json()["detail"] == f"Invalid characters in {name}"
    r = await anonymous.get("/analytics/platform-analytics")
    assert r.status_code == 401


async def test_empty_workspace_gives_zeros(tenant: Tenant) -> None:
    body = await get(tenant, "platform-analytics")
    assert body["metrics_summary"]["total_calls"] == 0
    assert body["metrics_summary"]["connectivity"] == 0.0
    assert body["performance_metrics"] == {
        "status_distribution": statuses(),
        "calls_per_day": [],
        "agents": [],
    }
    dist = (await get(tenant, "duration-distribution"))["duration_distribution"]
    assert [b["count"] for b in dist["buckets"]] == [0] * 7 and dist["average_duration"] == 0.0
    assert (await get(tenant, "number-analytics"))["number_analytics"] == []


NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_window_rules() -> None:
    w = window(None, None, now=lambda: NOW)
    assert (w.start, w.end, w.utc_offset_min) == (NOW - timedelta(days=30), NOW, 0)
    w = window("2026-11-01", None, now=lambda: NOW)
    assert (w.start, w.end) == (at("2026-11-01T00:00"), NOW)
    w = window(None, "2026-11-10T00:00:00-03:00", now=lambda: NOW)
    assert w.end == at("2026-11-10T03:00:00.000001") and w.start == w.end - timedelta(days=30)
    assert w.utc_offset_min == -180
    w = window("2026-11-10", "2026-11-10T12:00:00-03:00", now=lambda: NOW)
    assert w.start == at("2026-11-10T03:00")  # the plain day read at the other date's offset
    w = window("2030-01-01", None, now=lambda: NOW)  # a start in the future: an empty window
    assert w.start == w.end
    with pytest.raises(InvalidRequest):
        window("2026-11-10T00:00:00+05:30:30", None)
