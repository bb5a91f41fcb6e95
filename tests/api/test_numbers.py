"""Numbers and telephony accounts."""

from __future__ import annotations

from tests.conftest import Tenant

TWILIO = {
    "provider": "twilio",
    "name": "Twilio main",
    "credentials": {"account_sid": "AC" + "0" * 32, "auth_token": "secret-token-123"},
}


async def test_default_sim_number(tenant: Tenant) -> None:
    r = await tenant.client.get("/workspace/numbers")
    assert r.status_code == 200
    [number] = r.json()["workspace_numbers"]
    assert number["provider"] == "sim" and number["number"].startswith("+1555")
    assert number["agent"] is None and number["tags"] == ["Default Number"]


async def test_accounts_never_return_secrets(tenant: Tenant) -> None:
    r = await tenant.client.post("/telephony/accounts", json=TWILIO)
    assert r.status_code == 200, r.text
    account = r.json()["telephony_account"]
    assert account["credentials"]["auth_token"] == "********"
    assert "secret-token-123" not in r.text
    r = await tenant.client.get("/telephony/accounts")
    assert "secret-token-123" not in r.text
    assert {a["provider"] for a in r.json()["telephony_accounts"]} == {"sim", "twilio"}


async def test_account_validation(tenant: Tenant) -> None:
    r = await tenant.client.post(
        "/telephony/accounts", json={**TWILIO, "credentials": {"account_sid": "nope"}}
    )
    assert r.status_code == 400 and "twilio credentials" in r.json()["detail"]
    r = await tenant.client.post(
        "/telephony/accounts", json={**TWILIO, "provider": "carrier-pigeon"}
    )
    assert r.status_code == 422
    sip = {"provider": "sip", "name": "PBX", "credentials": {"host": "pbx.example", "port": 5060}}
    assert (await tenant.client.post("/telephony/accounts", json=sip)).status_code == 200


async def test_import_list_and_deallocate(tenant: Tenant) -> None:
    account = (await tenant.client.post("/telephony/accounts", json=TWILIO)).json()
    account_id = account["telephony_account"]["id"]
    r = await tenant.client.post(
        "/workspace/numbers/import",
        json={
            "telephony_account_id": account_id,
            "numbers": ["+14155550123", {"number": "+91 80357 35900", "display_name": "Sales"}],
        },
    )
    assert r.status_code == 200, r.text
    imported = r.json()["workspace_numbers"]
    assert [n["number"] for n in imported] == ["+14155550123", "+918035735900"]
    assert imported[1]["display_name"] == "Sales" and imported[1]["provider"] == "twilio"

    r = await tenant.client.get("/workspace/numbers", params={"limit": 100})
    assert len(r.json()["workspace_numbers"]) == 3
    r = await tenant.client.get("/workspace/numbers", params={"limit": 1, "offset": 1})
    assert len(r.json()["workspace_numbers"]) == 1

    dup = {"telephony_account_id": account_id, "numbers": ["+14155550123"]}
    assert (await tenant.client.post("/workspace/numbers/import", json=dup)).status_code == 409
    bad = {"telephony_account_id": account_id, "numbers": ["0800-CALL-ME"]}
    r = await tenant.client.post("/workspace/numbers/import", json=bad)
    assert r.status_code == 400 and "E.164" in r.json()["detail"]
    missing = {"telephony_account_id": "x", "numbers": ["+14155550999"]}
    assert (await tenant.client.post("/workspace/numbers/import", json=missing)).status_code == 404

    r = await tenant.client.delete(f"/telephony/accounts/{account_id}")
    assert r.status_code == 409
    number_id = imported[0]["id"]
    r = await tenant.client.delete(f"/workspace/number/{number_id}")
    assert r.status_code == 200 and r.json() == {"message": "Number deallocated successfully!"}
    assert (await tenant.client.delete(f"/workspace/number/{number_id}")).status_code == 404
    await tenant.client.delete(f"/workspace/number/{imported[1]['id']}")
    assert (await tenant.client.delete(f"/telephony/accounts/{account_id}")).status_code == 200
    # Nothing else was lost on the way.
    r = await tenant.client.get("/workspace/numbers")
    assert [n["provider"] for n in r.json()["workspace_numbers"]] == ["sim"]


async def test_inbound_assignment_shows_on_numbers(tenant: Tenant) -> None:
    from tests.api.bodies import public_agent

    agent = await tenant.client.post("/public/agent", json=public_agent(agent_type="inbound"))
    agent_id = agent.json()["data"]["id"]
    number_id = (await tenant.client.get("/workspace/numbers")).json()["workspace_numbers"][0]["id"]
    body = {"operation": "attach_inbound_number", "agent_id": agent_id, "number_id": number_id}
    assert (await tenant.client.patch("/agent/v1", json=body)).status_code == 200
    [number] = (await tenant.client.get("/workspace/numbers")).json()["workspace_numbers"]
    assert number["agent"]["id"] == agent_id and number["is_inbound_enabled"] is True
    body["operation"] = "remove_inbound_number"
    assert (await tenant.client.patch("/agent/v1", json=body)).status_code == 200
    [number] = (await tenant.client.get("/workspace/numbers")).json()["workspace_numbers"]
    assert number["agent"] is None
    outbound = (await tenant.client.post("/public/agent", json=public_agent())).json()["data"]["id"]
    body.update(operation="attach_inbound_number", agent_id=outbound)
    assert (await tenant.client.patch("/agent/v1", json=body)).status_code == 400
