"""Workspace endpoints, authentication, paging and the rate limit."""

from __future__ import annotations

import httpx

from callwright.bootstrap import Container
from callwright.services import workspaces
from tests.conftest import Tenant


async def test_workspace_info(tenant: Tenant) -> None:
    r = await tenant.client.get("/workspace")
    assert r.status_code == 200
    info = r.json()["workspace_info"]
    assert info["id"] == tenant.workspace_id
    assert info["credits"] == 100.0 and info["locked_credits"] == 0.0
    assert info["created_at"].endswith("+00:00") and "." in info["created_at"]
    assert "api_key" not in info


async def test_missing_bad_and_revoked_keys_get_401(
    tenant: Tenant, anonymous: httpx.AsyncClient, container: Container
) -> None:
    r = await anonymous.get("/workspace")
    assert r.status_code == 401
    assert r.json()["error"] == {"code": "401 Unauthorized", "message": "Invalid credentials"}
    assert r.json()["detail"] == "Invalid credentials"
    r = await anonymous.get("/workspace", headers={"X-API-KEY": tenant.api_key + "x"})
    assert r.status_code == 401

    row, key = await workspaces.create_key(container.uow, tenant.workspace_id, "temp")
    assert (await anonymous.get("/workspace", headers={"X-API-KEY": key})).status_code == 200
    await workspaces.revoke_key(container.uow, row.id)
    assert (await anonymous.get("/workspace", headers={"X-API-KEY": key})).status_code == 401
    # Revoking one key leaves the others working.
    assert (await tenant.client.get("/workspace")).status_code == 200


async def test_keys_are_stored_only_as_hashes(tenant: Tenant, container: Container) -> None:
    from sqlalchemy import select

    from callwright.db.models import ApiKey

    async with container.uow() as session:
        rows = (
            await session.scalars(select(ApiKey).where(ApiKey.workspace_id == tenant.workspace_id))
        ).all()
    assert rows and all(tenant.api_key not in (r.key_hash + r.hint) for r in rows)
    assert tenant.api_key.startswith("cwk_") and len(tenant.api_key) > 40


async def test_workspace_all_and_users(tenant: Tenant) -> None:
    r = await tenant.client.get("/workspace/all")
    assert r.status_code == 200
    [row] = r.json()["workspaces"]
    assert row["id"] == tenant.workspace_id and row["role"] == "owner"

    r = await tenant.client.get("/workspace/users", params={"limit": 100, "offset": 0})
    [user] = r.json()["workspace_users"]
    assert set(user) == {"id", "username", "email", "role", "invite_status"}
    r = await tenant.client.get("/workspace/users", params={"offset": 1})
    assert r.json()["workspace_users"] == []


async def test_paging_limits_are_validated(tenant: Tenant) -> None:
    for params in ({"limit": 101}, {"limit": 0}, {"offset": -1}, {"limit": "ten"}):
        r = await tenant.client.get("/workspace/users", params=params)
        assert r.status_code == 422, params
        body = r.json()
        assert body["error"]["code"] == "invalid_request" and isinstance(body["detail"], list)


async def test_add_credits(tenant: Tenant) -> None:
    r = await tenant.client.post("/workspace/credits", json={"amount": 50})
    assert r.status_code == 200
    assert r.json()["workspace_info"]["credits"] == 150.0
    assert (await tenant.client.post("/workspace/credits", json={"amount": -5})).status_code == 422


async def test_unknown_route_and_method(tenant: Tenant) -> None:
    r = await tenant.client.get("/no/such/thing")
    assert r.status_code == 404 and "detail" in r.json()
    r = await tenant.client.put("/workspace")
    assert r.status_code == 405


async def test_malformed_json_is_422(tenant: Tenant) -> None:
    r = await tenant.client.post(
        "/workspace/credits", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
