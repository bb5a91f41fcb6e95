"""Individual calls through the API: validation, lifecycle on the sim network, reads, export,
termination, idempotency, recordings and credits."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.api.bodies import public_agent
from tests.calls.conftest import Platform, call_body
from tests.conftest import Tenant


async def setup(t: Tenant) -> tuple[str, str, str]:
    agent = await t.client.post("/public/agent", json=public_agent())
    agent_id = agent.json()["data"]["id"]
    number = (await t.client.get("/workspace/numbers")).json()["workspace_numbers"][0]
    return agent_id, number["id"], number["number"]


async def wait_status(
    t: Tenant, call_id: str, *wanted: str, timeout_s: float = 20
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        r = await t.client.get(
            "/calling/call-details", params={"id": call_id, "send_analysis": True}
        )
        data: dict[str, Any] = r.json()["data"]
        if data["call_status"] in wanted and (
            data["call_status"] != "completed" or data["platform_analysis_status"] != "pending"
        ):
            return data
        assert asyncio.get_running_loop().time() < deadline, data
        await asyncio.sleep(0.1)


async def test_caller_source_rules(tenant: Tenant) -> None:
    agent_id, number_id, number = await setup(tenant)
    both = call_body(agent_id, from_number_id=number_id, from_number=number)
    r = await tenant.client.post("/calling/outbound/individual", json=both)
    assert r.status_code == 422
    r = await tenant.client.post("/calling/outbound/individual", json=call_body(agent_id))
    assert r.status_code == 422
    r = await tenant.client.post("/calling/v2/outbound/individual", json=call_body(agent_id))
    assert r.status_code == 400
    assert (
        r.json()["detail"] == "Provide at least one of: number_pool_id, from_number_id, from_number"
    )
    r = await tenant.client.post("/calling/v2/outbound/individual", json=both)
    assert r.status_code == 400
    r = await tenant.client.post(
        "/calling/v2/outbound/individual", json=call_body(agent_id, number_pool_id="nope")
    )
    assert r.status_code == 400 and r.json()["detail"] == "Number pool not found."


async def test_unknown_agent_and_number_are_404(tenant: Tenant) -> None:
    agent_id, number_id, _ = await setup(tenant)
    missing = "00000000-0000-0000-0000-000000000000"
    r = await tenant.client.post(
        "/calling/outbound/individual", json=call_body(missing, from_number_id=number_id)
    )
    assert r.status_code == 404 and r.json()["detail"] == "Agent not found"
    r = await tenant.client.post(
        "/calling/outbound/individual", json=call_body(agent_id, from_number_id=missing)
    )
    assert r.status_code == 404
    r = await tenant.client.post(
        "/calling/outbound/individual", json=call_body(agent_id, from_number="+15550009999")
    )
    assert r.status_code == 404
    r = await tenant.client.post(
        "/calling/outbound/individual",
        json=call_body(agent_id, to="12345", from_number_id=number_id),
    )
    assert r.status_code == 400


async def test_answered_call_completes_with_transcript_recording_and_analysis(
    tenant: Tenant, platform: Platform
) -> None:
    agent_id, number_id, number = await setup(tenant)
    labels = {"interested": "wants a demo", "not_interested": "declined"}
    await tenant.client.patch(
        "/agent/v1",
        json={
            "operation": "edit_classification_labels",
            "agent_id": agent_id,
            "classification_labels": labels,
        },
    )
    body = call_body(
        agent_id,
        from_number_id=[number_id],
        custom_args_values={"company": "Acme"},
        smart_formatter={"extract_first_name": True},
    )
    r = await tenant.client.post("/calling/outbound/individual", json=body)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert r.json()["message"] == "Call initiated successfully"
    assert data["call_status"] == "registered" and data["call_direction"] == "outbound"
    assert data["custom_args_values"]["callee_name"] == "Ravi"
    assert data["custom_args_values"]["original_callee_name"] == "Mr. Ravi Kumar"
    assert data["custom_args_values"]["mobile_number"] == "+14155550100"
    assert "+" not in data["initiated_at"][19:]  # Ringg's offset-less form

    details = await wait_status(tenant, data["call_id"], "completed")
    assert details["call_sub_status"] == "ACCEPTED", details["transcription_url"]
    assert details["from_number"] == number and details["callee_name"] == "Ravi"
    turns = details["transcription_url"]
    assert turns[0] == {"bot": "Hello Ravi, this is Sarah from Acme Corp."}
    assert {"user": "Yes, I would like a demo."} in turns
    assert any("book the demo" in t.get("bot", "") for t in turns)
    assert details["platform_analysis"]["summary"] == "The caller agreed to a demo."
    assert details["platform_analysis"]["classification"] == "interested"
    assert details["call_duration"] > 0 and details["call_cost"] > 0
    assert len(details["turn_latencies"]) >= 1

    # The recording link works, and only as signed.
    url = details["recording_url"]
    path = urlsplit(url)
    r = await tenant.client.get(f"{path.path.removeprefix('/ca/api/v0')}?{path.query}")
    assert r.status_code == 200 and r.content[:4] == b"RIFF"
    tampered = path.query.replace("signature=", "signature=0")
    r = await tenant.client.get(f"{path.path.removeprefix('/ca/api/v0')}?{tampered}")
    assert r.status_code == 403
    expired = f"expires=1&signature={path.query.split('signature=')[1]}"
    r = await tenant.client.get(f"{path.path.removeprefix('/ca/api/v0')}?{expired}")
    assert r.status_code == 403

    # History carries the transcript as a JSON string, as Ringg does.
    r = await tenant.client.get("/calling/history", params={"agent_id": agent_id})
    hist = r.json()
    assert hist["count"] == 1 and hist["total"] == 1
    row = hist["calls"][0]
    assert json.loads(row["transcript"]) == turns
    assert row["agent"]["version"]["version_slug"] == "v1"
    assert row["audio_recording"].startswith("http")

    # Credits: the lock is released and the cost is charged.
    info = (await tenant.client.get("/workspace")).json()["workspace_info"]
    assert info["locked_credits"] == 0.0
    assert abs(info["credits"] - (100.0 - details["call_cost"])) < 1e-6
    # The sim network dialled exactly once.
    dials = [d for d in platform.network.records() if d.call_id == data["call_id"]]
    assert len(dials) == 1


async def test_busy_no_answer_and_voicemail_statuses(tenant: Tenant) -> None:
    agent_id, number_id, _ = await setup(tenant)
    expected = {
        "+14155550001": ("failed", "busy line"),
        "+14155550002": ("failed", "no answer"),
    }
    ids = {}
    for to in expected:
        r = await tenant.client.post(
            "/calling/outbound/individual",
            json=call_body(agent_id, to=to, from_number_id=number_id),
        )
        ids[to] = r.json()["data"]["call_id"]
    for to, (status, sub) in expected.items():
        details = await wait_status(tenant, ids[to], status, timeout_s=60)
        assert details["call_sub_status"] == sub, to
    info = (await tenant.client.get("/workspace")).json()["workspace_info"]
    assert info["locked_credits"] == 0.0 and info["credits"] == 100.0  # unconnected calls are free


async def test_retry_after_busy_is_scheduled(tenant: Tenant) -> None:
    agent_id, number_id, _ = await setup(tenant)
    config = {"call_retry_config": {"retry_count": 2, "retry_busy": 5}}
    r = await tenant.client.post(
        "/calling/outbound/individual",
        json=call_body(agent_id, to="+14155550001", from_number_id=number_id, call_config=config),
    )
    call_id = r.json()["data"]["call_id"]
    details = await wait_status(tenant, call_id, "retry")
    assert details["call_sub_status"] == "RETRY_SCHEDULED"
    assert details["attempts"][0]["status"] == "busy line"
    r = await tenant.client.get("/calling/history", params={"status": "retry"})
    row = r.json()["calls"][0]
    assert row["retry_count"] == 1 and row["next_attempt_time"] is not None


async def test_terminate_queued_calls(tenant: Tenant, platform: Platform) -> None:
    agent_id, number_id, _ = await setup(tenant)
    later = {"call_time": {"scheduled_at": "2099-01-01T09:00:00+05:30"}}
    ids = []
    for to in ("+14155550111", "+14155550112"):
        r = await tenant.client.post(
            "/calling/outbound/individual",
            json=call_body(agent_id, to=to, from_number_id=number_id, call_config=later),
        )
        assert r.status_code == 200
        ids.append(r.json()["data"]["call_id"])
    locked = (await tenant.client.get("/workspace")).json()["workspace_info"]["locked_credits"]
    assert locked > 0
    r = await tenant.client.patch("/campaign/terminate", json={"call_ids": [ids[0]]})
    assert r.status_code == 200 and r.json() == {"message": "Calls terminated successfully!"}
    r = await tenant.client.patch("/campaign/terminate", json={"call_ids": [ids[0]]})
    assert r.status_code == 400  # nothing left to terminate
    r = await tenant.client.patch("/campaign/terminate", json={"mobile_numbers": ["+14155550112"]})
    assert r.status_code == 200
    for call_id in ids:
        details = await wait_status(tenant, call_id, "cancelled")
        assert details["call_sub_status"] == "USER_TERMINATED"
    info = (await tenant.client.get("/workspace")).json()["workspace_info"]
    assert info["locked_credits"] == 0.0
    assert not [d for d in platform.network.records() if d.call_id in ids]
    assert (await tenant.client.patch("/campaign/terminate", json={})).status_code == 400


async def test_idempotency_key_race_places_one_call(tenant: Tenant, platform: Platform) -> None:
    agent_id, number_id, _ = await setup(tenant)
    body = call_body(agent_id, to="+14155550123", from_number_id=number_id)
    headers = {"Idempotency-Key": "order-42"}
    responses = await asyncio.gather(
        *[
            tenant.client.post("/calling/outbound/individual", json=body, headers=headers)
            for _ in range(50)
        ]
    )
    assert {r.status_code for r in responses} == {200}
    call_ids = {r.json()["data"]["call_id"] for r in responses}
    assert len(call_ids) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 49
    r = await tenant.client.get("/calling/history", params={"limit": 100})
    assert [c["id"] for c in r.json()["calls"]] == list(call_ids)
    await wait_status(tenant, call_ids.pop(), "completed")
    assert len([d for d in platform.network.records() if d.to_number == "+14155550123"]) == 1
    other = dict(body, name="Someone Else")
    r = await tenant.client.post("/calling/outbound/individual", json=other, headers=headers)
    assert r.status_code == 409


async def test_insufficient_credits_is_402(tenant_factory: object) -> None:
    poor: Tenant = await tenant_factory(credits=1.0)  # type: ignore[operator]
    agent_id, number_id, _ = await setup(poor)
    r = await poor.client.post(
        "/calling/outbound/individual", json=call_body(agent_id, from_number_id=number_id)
    )
    assert r.status_code == 402 and r.json()["error"]["code"] == "insufficient_credits"
    assert (await poor.client.get("/calling/history")).json()["calls"] == []


async def test_history_filters_and_bad_dates(tenant: Tenant) -> None:
    agent_id, number_id, _ = await setup(tenant)
    later = {"call_time": {"scheduled_at": "2099-01-01T09:00:00+05:30"}}
    for _ in range(3):
        await tenant.client.post(
            "/calling/outbound/individual",
            json=call_body(agent_id, from_number_id=number_id, call_config=later),
        )
    r = await tenant.client.get("/calling/history", params={"limit": 2})
    assert r.json()["count"] == 2 and r.json()["total"] == 3
    r = await tenant.client.get("/calling/history", params={"status": "completed"})
    assert r.json()["total"] == 0
    r = await tenant.client.get(
        "/calling/history",
        params={"start_date": "2000-01-01T00:00:00+05:30", "end_date": "2000-01-02T00:00:00Z"},
    )
    assert r.json()["total"] == 0
    r = await tenant.client.get("/calling/history", params={"start_date": "yesterday"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_parameter"
    r = await tenant.client.get("/calling/call-details", params={"id": "nope"})
    assert r.status_code == 404 and r.json()["detail"] == "Call not found"


async def test_download_neutralises_formulas(tenant: Tenant) -> None:
    agent_id, number_id, _ = await setup(tenant)
    later = {"call_time": {"scheduled_at": "2099-01-01T09:00:00+05:30"}}
    r = await tenant.client.post(
        "/calling/outbound/individual",
        json=call_body(
            agent_id,
            from_number_id=number_id,
            call_config=later,
            custom_args_values={"callee_name": '=HYPERLINK("http://evil")'},
        ),
    )
    assert r.status_code == 200
    r = await tenant.client.post("/calling/history/download", params={"include_analysis": True})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1
    assert rows[0]["callee_name"].startswith("'=HYPERLINK")
    assert rows[0]["status"] == "registered" and "summary" in rows[0]


async def test_other_workspaces_calls_are_invisible(tenant_factory: object) -> None:
    a: Tenant = await tenant_factory()  # type: ignore[operator]
    b: Tenant = await tenant_factory()  # type: ignore[operator]
    agent_id, number_id, _ = await setup(a)
    later = {"call_time": {"scheduled_at": "2099-01-01T09:00:00+05:30"}}
    r = await a.client.post(
        "/calling/outbound/individual",
        json=call_body(agent_id, from_number_id=number_id, call_config=later),
    )
    call_id = r.json()["data"]["call_id"]
    assert (await b.client.get("/calling/call-details", params={"id": call_id})).status_code == 404
    assert (
        await b.client.patch("/campaign/terminate", json={"call_ids": [call_id]})
    ).status_code == 400
    assert call_id not in (await b.client.get("/calling/history")).text
    assert call_id not in (await b.client.post("/calling/history/download")).text
    _, b_number, _ = await setup(b)
    r = await b.client.post(
        "/calling/outbound/individual", json=call_body(agent_id, from_number_id=b_number)
    )
    assert r.status_code == 404
    # A's call is still queued.
    details = (await a.client.get("/calling/call-details", params={"id": call_id})).json()["data"]
    assert details["call_status"] == "registered"


_ = httpx
