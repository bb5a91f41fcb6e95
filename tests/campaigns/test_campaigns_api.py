"""Campaigns through the API: upload, start, caps, pause/resume, terminate, do-not-call."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from sqlalchemy import update

from callwright.db.models import TelephonyAccount
from callwright.sim.network import max_concurrent_calls, max_dials_within
from tests.calls.conftest import Platform, call_body
from tests.calls.test_calls_api import wait_status
from tests.campaigns.helpers import agent_and_number, csv_of, numbers, save, wait_campaign
from tests.conftest import Tenant


async def test_campaign_runs_every_contact_once_within_caps(
    tenant: Tenant, platform: Platform
) -> None:
    agent_id, number = await agent_and_number(tenant)
    contacts = numbers(12) + numbers(3, "0001", start=300)  # short calls, and busy lines
    config = {
        "call_time": {"call_start_time": "00:00", "call_end_time": "00:00", "timezone": "UTC"},
        "call_retry_config": {"retry_count": 1, "retry_busy": 0},
    }
    r = await save(tenant, agent_id, csv_of(contacts), call_config=config)
    assert r.status_code == 200, r.text
    saved = r.json()
    assert (saved["total_rows"], saved["successful_rows"], saved["failed_rows"]) == (15, 15, 0)
    campaign_id = saved["list_id"]
    async with platform.app.state.container.uow.begin() as session:
        await session.execute(update(TelephonyAccount).values(max_concurrent_calls=3))

    r = await tenant.client.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": campaign_id, "from_numbers": [number["number"]]},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "campaign registered successfully!", "has_ongoing_calls": False}
    again = await tenant.client.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": campaign_id, "from_numbers": [number["number"]]},
    )
    assert again.status_code == 400

    done = await wait_campaign(tenant, campaign_id, "completed")
    assert done["by_status"] == {"completed": 12, "failed": 3}
    dials = Counter(rec.to_number for rec in platform.network.records())
    assert all(dials[n] == 1 for n in contacts[:12])
    assert all(dials[n] == 2 for n in contacts[12:])  # one retry each after busy
    assert max_concurrent_calls(platform.network.records()) <= 3

    listed = (await tenant.client.get("/campaign/all")).json()
    row = listed["campaigns"][0]
    assert row["campaign_status"] == "completed"
    assert (row["total_count"], row["completed_count"]) == (15, 12)
    history = await tenant.client.get("/calling/history", params={"bulk_list_id": campaign_id})
    assert history.json()["total"] == 15


async def _settled_dials(platform: Platform, *, quiet_s: float = 1.5) -> int:
    """How many dials the network has seen once none came for ``quiet_s``."""
    seen = len(platform.network.records())
    deadline = asyncio.get_running_loop().time() + 30
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(quiet_s)
        now = len(platform.network.records())
        if now == seen:
            return now
        seen = now
    raise AssertionError("dials kept coming while the campaign was paused")


async def test_dials_keep_to_the_accounts_calls_per_second(
    tenant: Tenant, platform: Platform
) -> None:
    agent_id, number = await agent_and_number(tenant)
    account = (await tenant.client.get("/telephony/accounts")).json()["telephony_accounts"][0]
    r = await tenant.client.put(
        f"/telephony/accounts/{account['id']}/limits",
        json={"max_concurrent_calls": 20, "calls_per_second": 2},
    )
    assert r.status_code == 200, r.text
    contacts = numbers(10)
    r = await save(tenant, agent_id, csv_of(contacts))
    campaign_id = r.json()["list_id"]
    await tenant.client.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": campaign_id, "from_numbers": [number["id"]]},
    )
    await wait_campaign(tenant, campaign_id, "completed")
    records = platform.network.records()
    assert sorted(r.to_number for r in records) == sorted(contacts)
    # 20 free lines would take all ten at once; two a second spreads them over ~5 s.
    assert max_dials_within(records, 1.0) <= 2
    assert records[-1].dialed_at_mono - records[0].dialed_at_mono >= 4.0


async def test_a_line_that_frees_up_is_refilled_at_once(tenant: Tenant, platform: Platform) -> None:
    """The pacer looks for the next contact when a call ends, not at its next tick."""
    platform.app.state.container.pacer.busy_interval_s = 60.0  # ticks alone would take minutes
    agent_id, number = await agent_and_number(tenant)
    account = (await tenant.client.get("/telephony/accounts")).json()["telephony_accounts"][0]
    await tenant.client.put(
        f"/telephony/accounts/{account['id']}/limits", json={"max_concurrent_calls": 1}
    )
    contacts = numbers(3)
    campaign_id = (await save(tenant, agent_id, csv_of(contacts))).json()["list_id"]
    await tenant.client.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": campaign_id, "from_numbers": [number["id"]]},
    )
    await wait_campaign(tenant, campaign_id, "completed", timeout_s=30)
    records = platform.network.records()
    assert sorted(r.to_number for r in records) == sorted(contacts)
    assert max_concurrent_calls(records) == 1


async def test_pause_resume_and_terminate(tenant: Tenant, platform: Platform) -> None:
    agent_id, number = await agent_and_number(tenant)
    r = await save(tenant, agent_id, csv_of(numbers(30)))
    campaign_id = r.json()["list_id"]
    async with platform.app.state.container.uow.begin() as session:
        await session.execute(update(TelephonyAccount).values(max_concurrent_calls=2))
    started = await tenant.client.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": campaign_id, "from_numbers": [number["id"]]},
    )
    assert started.status_code == 200, started.text
    paused = await tenant.client.post(f"/campaign/{campaign_id}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    at_pause = len(platform.network.records())
    # Calls admitted as the pause committed (at most the account's two lines) may still dial,
    # however late a loaded machine runs them; after they have, no new one starts.
    during = await _settled_dials(platform)
    assert during <= at_pause + 2
    await asyncio.sleep(1.0)
    assert len(platform.network.records()) == during
    assert (await tenant.client.post(f"/campaign/{campaign_id}/pause")).status_code == 400

    assert (await tenant.client.post(f"/campaign/{campaign_id}/resume")).status_code == 200
    deadline = asyncio.get_running_loop().time() + 20
    while len(platform.network.records()) < during + 2:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.1)

    r = await tenant.client.patch("/campaign/terminate", json={"campaign_id": campaign_id})
    assert r.status_code == 200
    stopped_at = len(platform.network.records())
    body = await wait_campaign(tenant, campaign_id, "cancelled")
    await asyncio.sleep(1.0)
    assert len(platform.network.records()) <= stopped_at + 2  # at most the calls in admission
    assert body["by_status"].get("cancelled", 0) >= 30 - stopped_at - 2
    assert len({r.to_number for r in platform.network.records()}) == len(platform.network.records())


async def test_do_not_call_numbers_are_never_dialled(tenant: Tenant, platform: Platform) -> None:
    agent_id, number = await agent_and_number(tenant)
    contacts = numbers(6)
    blocked = contacts[::2]
    r = await tenant.client.post("/do-not-call", json={"numbers": blocked, "reason": "asked"})
    assert r.json()["added"] == 3
    check = await tenant.client.post("/do-not-call/check", json={"numbers": contacts[:2]})
    assert check.json()["numbers"] == {contacts[0]: True, contacts[1]: False}
    r = await save(tenant, agent_id, csv_of(contacts))
    campaign_id = r.json()["list_id"]
    await tenant.client.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": campaign_id, "from_numbers": [number["id"]]},
    )
    done = await wait_campaign(tenant, campaign_id, "completed")
    dialled = {rec.to_number for rec in platform.network.records()}
    assert dialled == set(contacts) - set(blocked)
    skipped = [c for c in done["contacts"] if c["sub_status"] == "DND_SKIPPED"]
    assert {c["mobile_number"] for c in skipped} == set(blocked)
    assert all(c["status"] == "cancelled" for c in skipped)

    # An individual call to a listed number is recorded, never dialled.
    call = await tenant.client.post(
        "/calling/outbound/individual",
        json=call_body(agent_id, blocked[0], name="Blocked", from_number_id=number["id"]),
    )
    assert call.status_code == 200, call.text
    ended = await wait_status(tenant, call.json()["data"]["call_id"], "cancelled", "completed")
    assert (ended["call_status"], ended["call_sub_status"]) == ("cancelled", "DND_SKIPPED")
    assert blocked[0] not in {rec.to_number for rec in platform.network.records()}
    assert (await tenant.client.delete(f"/do-not-call/{blocked[1]}")).status_code == 200
    assert (await tenant.client.delete(f"/do-not-call/{blocked[1]}")).status_code == 404


async def _listed(t: Tenant) -> list[str]:
    r = await t.client.get("/do-not-call", params={"limit": 100})
    return sorted(n["number"] for n in r.json()["numbers"])


async def test_do_not_call_import_reads_files_and_reports_rows_it_cannot(tenant: Tenant) -> None:
    kept = "+14155550100"
    assert (await tenant.client.post("/do-not-call", json={"numbers": [kept]})).status_code == 200

    async def upload(content: bytes, **form: str) -> Any:
        files = {"file": ("dnc.csv", content, "text/csv")}
        return await tenant.client.post("/do-not-call/import", data=form, files=files)

    # Files nothing can be read from are refused whole, and the list keeps what it had.
    for bad, form in [
        (b"\xff\xfe\x00n\x00o", {}),  # not UTF-8
        (b"Phone\r\nnot a number\r\n\r\n", {}),  # a header and no number
        (b"", {}),  # empty
        (b"Phone\r\n", {}),  # a header only
        (b"+14155550101\r\n", {"country_code": "+999"}),  # no such country
        (b"+14155550101\r\n" * 200_000, {}),  # over 2 MB
    ]:
        r = await upload(bad, **form)
        assert r.status_code == 400, (bad[:20], r.text)
        assert r.json()["detail"]
    assert await _listed(tenant) == [kept]

    # One number a row (a CSV's first column): national ones need the country to be read;
    # a row that is no number is reported by its row and the rest are added.
    content = (
        "Phone,Note\r\n"  # row 1: a header
        "+14155550101,web form\r\n"
        "415 555 0102,national\r\n"
        "(415) 555-0103,national\r\n"
        "12,a typo\r\n"  # row 5
        f"{kept},already listed\r\n"
    ).encode()
    r = await upload(content, reason="imported")
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 1
    assert [e["row_number"] for e in r.json()["invalid_rows"]] == [3, 4, 5]
    assert "country_code" in r.json()["invalid_rows"][0]["reason"]
    r = await upload(content, country_code="+1")
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 2
    assert [e["row_number"] for e in r.json()["invalid_rows"]] == [5]
    assert await _listed(tenant) == [kept, "+14155550101", "+14155550102", "+14155550103"]
    r = await tenant.client.get("/do-not-call", params={"limit": 100})
    reasons = {n["number"]: n["reason"] for n in r.json()["numbers"]}
    assert (reasons[kept], reasons["+14155550101"]) == ("", "imported")


async def test_numbers_listed_mid_campaign_are_not_dialled_again(
    tenant: Tenant, platform: Platform
) -> None:
    agent_id, number = await agent_and_number(tenant)
    busy = numbers(4, "0001", start=300)  # first in the list, redialled at once when busy
    short = numbers(20)
    config = {
        "call_time": {"call_start_time": "00:00", "call_end_time": "00:00", "timezone": "UTC"},
        "call_retry_config": {"retry_count": 3, "retry_busy": 0},
    }
    r = await save(tenant, agent_id, csv_of(busy + short), call_config=config)
    campaign_id = r.json()["list_id"]
    async with platform.app.state.container.uow.begin() as session:
        await session.execute(update(TelephonyAccount).values(max_concurrent_calls=2))
    await tenant.client.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": campaign_id, "from_numbers": [number["id"]]},
    )
    deadline = asyncio.get_running_loop().time() + 30
    while not set(busy) <= {rec.to_number for rec in platform.network.records()}:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)

    listed = busy + short[10:]
    r = await tenant.client.post("/do-not-call", json={"numbers": listed, "reason": "asked"})
    assert r.status_code == 200, r.text
    before = Counter(rec.to_number for rec in platform.network.records())  # the add committed
    done = await wait_campaign(tenant, campaign_id, "completed")
    after = Counter(rec.to_number for rec in platform.network.records())

    # Only calls already admitted as the add committed (at most the account's two lines)
    # may still reach a listed number; had the list been ignored, each busy number would be
    # dialled four times and every short one once.
    assert sum(after[n] - before[n] for n in listed) <= 2, (before, after)
    never = [n for n in listed if after[n] == 0]
    assert never, "the add came too late to show anything"
    status = {c["mobile_number"]: c for c in done["contacts"]}
    assert all(status[n]["sub_status"] == "DND_SKIPPED" for n in never)
    assert all(after[n] == 1 for n in short[:10])


async def test_bad_uploads_get_clear_errors(tenant: Tenant) -> None:
    agent_id, _ = await agent_and_number(tenant)
    empty = await save(tenant, agent_id, b"")
    assert empty.status_code == 400
    no_column = await save(tenant, agent_id, b"Phone,Name\r\n+14155550100,A\r\n")
    assert no_column.status_code == 400 and "Mobile Number" in no_column.json()["detail"]
    binary = await save(tenant, agent_id, bytes(range(256)) * 100)
    assert binary.status_code == 400
    bad_rows = csv_of(["+14155550100", "not a number", "+14155550100", "+14155550199"])
    r = await save(tenant, agent_id, bad_rows)
    assert r.status_code == 400
    assert [e["row_number"] for e in r.json()["invalid_rows"]] == [3, 4]
    kept = await save(tenant, agent_id, bad_rows, remove_invalid_rows="true")
    assert kept.status_code == 200, kept.text
    assert (kept.json()["successful_rows"], kept.json()["failed_rows"]) == (2, 2)
    bad_json = await save(tenant, agent_id, bad_rows, variables_map="{nope")
    assert bad_json.status_code == 400
    unknown = await tenant.client.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": "nope", "from_numbers": ["+14155550100"]},
    )
    assert unknown.status_code == 404


async def test_contact_lists_are_saved_reused_and_deleted(
    tenant: Tenant, platform: Platform
) -> None:
    agent_id, number = await agent_and_number(tenant)
    contacts = numbers(3)
    r = await tenant.client.post(
        "/calling/contact/list",
        data={
            "variables_map": '{"callee_name": "Name"}',
            "agent_id": agent_id,
            "country_code": "+1",
            "list_name": "Leads",
        },
        files={"file": ("leads.csv", csv_of(contacts), "text/csv")},
    )
    assert r.status_code == 200, r.text
    list_id = r.json()["list_id"]
    lists = (await tenant.client.get("/workspace/lists")).json()["lists"]
    assert [(x["id"], x["successful_rows"]) for x in lists] == [(list_id, 3)]
    all_day = {"call_start_time": "00:00", "call_end_time": "00:00", "timezone": "UTC"}
    reused = await tenant.client.post(
        "/campaign/from-list",
        json={
            "list_id": list_id,
            "agent_id": agent_id,
            "campaign_name": "Leads again",
            "call_config": {"call_time": all_day},
        },
    )
    assert reused.status_code == 200, reused.text
    campaign_id = reused.json()["id"]
    assert campaign_id != list_id and reused.json()["total_contacts"] == 3

    # The campaign reads the list when it starts: until then the list may not go.
    refused = await tenant.client.delete(f"/calling/contact/{list_id}")
    assert refused.status_code == 409, refused.text
    assert "'Leads again'" in refused.json()["detail"] and "terminate" in refused.json()["detail"]
    lists = (await tenant.client.get("/workspace/lists")).json()["lists"]
    assert [(x["id"], x["successful_rows"]) for x in lists] == [(list_id, 3)]

    started = await tenant.client.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": campaign_id, "from_numbers": [number["id"]]},
    )
    assert started.status_code == 200, started.text
    done = await wait_campaign(tenant, campaign_id, "completed")
    assert done["by_status"] == {"completed": 3}
    assert sorted(rec.to_number for rec in platform.network.records()) == sorted(contacts)
    names = {c["mobile_number"]: c["callee_name"] for c in done["contacts"]}
    assert names == {n: f"Callee {i}" for i, n in enumerate(contacts)}

    # Started, its calls hold their contacts: the list may go.
    assert (await tenant.client.delete(f"/calling/contact/{list_id}")).status_code == 200
    assert (await tenant.client.delete(f"/calling/contact/{list_id}")).status_code == 404
    assert (await tenant.client.get("/workspace/lists")).json()["lists"] == []


async def test_a_list_waits_for_campaigns_made_from_it_to_start_or_be_terminated(
    tenant: Tenant,
) -> None:
    agent_id, number = await agent_and_number(tenant)
    r = await save(tenant, agent_id, csv_of(numbers(2)))
    list_id = r.json()["list_id"]  # /campaign/save: a draft campaign sharing the list's id
    body = {"list_id": list_id, "agent_id": agent_id}
    r = await tenant.client.post("/campaign/from-list", json=body)
    assert r.status_code == 200, r.text
    campaign_id = r.json()["id"]
    refused = await tenant.client.delete(f"/calling/contact/{list_id}")
    assert refused.status_code == 409, refused.text

    # Terminating the campaign made from the list releases it; the list's own draft never
    # held it (deleting it is what its owner asks for).
    r = await tenant.client.patch("/campaign/terminate", json={"campaign_id": campaign_id})
    assert r.status_code == 200, r.text
    assert (await tenant.client.delete(f"/calling/contact/{list_id}")).status_code == 200
    again = await tenant.client.post(
        "/campaign/start",
        json={"agent_id": agent_id, "list_id": campaign_id, "from_numbers": [number["id"]]},
    )
    assert again.status_code == 400, again.text  # cancelled: it cannot start
    status = (await tenant.client.get(f"/campaign/{campaign_id}/status")).json()
    assert status["campaign"]["status"] == "cancelled"
