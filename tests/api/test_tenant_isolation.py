"""With two workspaces, B's key reaches none of A's resources and learns nothing about them."""

from __future__ import annotations

from tests.api.bodies import public_agent
from tests.conftest import Tenant


async def test_every_route_is_scoped_to_the_callers_workspace(tenant_factory: object) -> None:
    a: Tenant = await tenant_factory(name="A")  # type: ignore[operator]
    b: Tenant = await tenant_factory(name="B")  # type: ignore[operator]

    agent_id = (await a.client.post("/public/agent", json=public_agent())).json()["data"]["id"]
    account = await a.client.post(
        "/telephony/accounts",
        json={"provider": "sip", "name": "A's PBX", "credentials": {"host": "pbx.a.example"}},
    )
    account_id = account.json()["telephony_account"]["id"]
    numbers = (await a.client.get("/workspace/numbers")).json()["workspace_numbers"]
    number_id = numbers[0]["id"]
    b_agent = await b.client.post("/public/agent", json=public_agent(agent_type="inbound"))
    b_agent_id = b_agent.json()["data"]["id"]

    probes = [
        ("GET", f"/agent/{agent_id}", None),
        ("DELETE", f"/agent/{agent_id}", None),
        ("PATCH", f"/public/agent/{agent_id}", {"task": "steal"}),
        (
            "PATCH",
            "/agent/v1",
            {"operation": "edit_prompt", "agent_id": agent_id, "agent_prompt": "x"},
        ),
        (
            "PATCH",
            "/agent/v1",
            {"operation": "edit_custom_vars", "agent_id": agent_id, "custom_variables": []},
        ),
        ("DELETE", f"/workspace/number/{number_id}", None),
        ("DELETE", f"/telephony/accounts/{account_id}", None),
        (
            "POST",
            "/workspace/numbers/import",
            {"telephony_account_id": account_id, "numbers": ["+14155550100"]},
        ),
        # B's own agent, A's number: the number must not be found.
        (
            "PATCH",
            "/agent/v1",
            {"operation": "attach_inbound_number", "agent_id": b_agent_id, "number_id": number_id},
        ),
    ]
    for method, path, body in probes:
        r = await b.client.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        for secret in (agent_id, account_id, number_id, "pbx.a.example", a.workspace_id):
            assert secret not in r.text

    # Lists show only B's own things.
    for path in (
        "/agent/all",
        "/workspace/numbers",
        "/telephony/accounts",
        "/workspace",
        "/workspace/all",
        "/workspace/users",
    ):
        r = await b.client.get(path)
        assert r.status_code == 200
        for secret in (agent_id, account_id, number_id, a.workspace_id, "pbx.a.example"):
            assert secret not in r.text, path

    # And A's resources are intact after B's attempts.
    agent = (await a.client.get(f"/agent/{agent_id}")).json()["agents"]
    assert "steal" not in agent["agent_config"]["agent_prompt"]
    assert len((await a.client.get("/workspace/numbers")).json()["workspace_numbers"]) == 1
    assert (await a.client.get("/telephony/accounts")).json()["telephony_accounts"][1][
        "id"
    ] == account_id
