"""Drive every Foundation endpoint with the examples of Ringg's published OpenAPI document and
check that status codes and response shapes (field names, nesting, JSON types) match."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.api.bodies import JOE
from tests.api.shape import mismatches
from tests.conftest import Tenant

SPEC = json.loads((Path(__file__).parents[1] / "data" / "ringg-openapi.json").read_text())


def operation(method: str, path: str) -> dict[str, Any]:
    op: dict[str, Any] = SPEC["paths"][path][method]
    return op


def response_schema(method: str, path: str, status: int) -> dict[str, Any]:
    content = operation(method, path)["responses"][str(status)]["content"]
    schema: dict[str, Any] = content["application/json"]["schema"]
    return schema


def example_body(method: str, path: str) -> dict[str, Any]:
    """A request body made of the reference's own example values."""
    schema = operation(method, path)["requestBody"]["content"]["application/json"]["schema"]
    body = {}
    for name, prop in schema["properties"].items():
        for candidate in (prop, *prop.get("oneOf", [])):  # agent_prompt: string or sections
            if "example" in candidate:
                body[name] = candidate["example"]
                break
    return body


def example_query(method: str, path: str) -> dict[str, Any]:
    params = operation(method, path).get("parameters", [])
    query = {
        p["name"]: p["schema"]["example"]
        for p in params
        if p["in"] == "query" and "example" in p["schema"]
    }
    if "offset" in query:
        query["offset"] = 0  # the example skips 20 rows; we want rows to check
    if path == "/agent/voices":
        # voice_previews is a map keyed by language; the reference shows it with "en-US".
        query["language"] = "en-US"
    return query


def assert_conforms(method: str, path: str, status: int, body: Any) -> None:
    problems = mismatches(response_schema(method, path, status), body)
    assert not problems, f"{method.upper()} {path} {status}: " + "; ".join(problems)


@pytest.fixture
async def agent_id(tenant: Tenant) -> str:
    body = example_body("post", "/public/agent")
    assert body["voice_id"] != JOE.id  # the reference's voice id is theirs; use one of ours
    body["voice_id"] = JOE.id
    r = await tenant.client.post("/public/agent", json=body)
    assert r.status_code == 200, r.text
    assert_conforms("post", "/public/agent", 200, r.json())
    created: str = r.json()["data"]["id"]
    return created


GETS = [
    "/workspace",
    "/workspace/all",
    "/workspace/users",
    "/workspace/numbers",
    "/agent/all",
    "/agent/voices",
]


@pytest.mark.parametrize("path", GETS)
async def test_list_and_info_endpoints(tenant: Tenant, agent_id: str, path: str) -> None:
    r = await tenant.client.get(path, params=example_query("get", path))
    assert r.status_code == 200
    body = r.json()
    assert_conforms("get", path, 200, body)
    # Arrays must hold rows, or their item shapes would go unchecked.
    assert all(v for v in _arrays(body)), f"{path} returned an empty list"


def _arrays(value: Any) -> list[list[Any]]:
    if isinstance(value, list):
        return [value]
    if isinstance(value, dict):
        return [a for v in value.values() for a in _arrays(v) if isinstance(v, dict | list)]
    return []


async def test_agent_detail(tenant: Tenant, agent_id: str) -> None:
    r = await tenant.client.get(f"/agent/{agent_id}")
    assert r.status_code == 200
    assert_conforms("get", "/agent/{agent_id}", 200, r.json())


async def test_public_agent_update(tenant: Tenant, agent_id: str) -> None:
    body = example_body("patch", "/public/agent/{agent_id}")
    body["voice_id"] = JOE.id
    r = await tenant.client.patch(f"/public/agent/{agent_id}", json=body)
    assert r.status_code == 200, r.text
    assert_conforms("patch", "/public/agent/{agent_id}", 200, r.json())


async def test_public_agent_voice_mismatch_error(tenant: Tenant) -> None:
    body = example_body("post", "/public/agent") | {"voice_id": JOE.id, "primary_language": "hi-IN"}
    r = await tenant.client.post("/public/agent", json=body)
    assert r.status_code == 400
    assert_conforms("post", "/public/agent", 400, r.json())


OPERATION_FIELDS = {
    # The fields each documented operation needs, with the reference's example values where it
    # has them; ids come from this workspace.
    "edit_agent_display_name": ["agent_display_name"],
    "edit_language": ["language"],
    "edit_voice": ["voice_id"],
    "edit_prompt": ["agent_prompt"],
    "edit_custom_vars": ["custom_variables"],
    "edit_agent_whitelisted_domains": ["whitelisted_domains"],
    "edit_voice_speed": ["voice_speed"],
    "edit_secondary_language": ["secondary_language"],
    "edit_secondary_voice": ["secondary_voice_id"],
}


@pytest.mark.parametrize(
    "op",
    SPEC["paths"]["/agent/v1"]["patch"]["requestBody"]["content"]["application/json"]["schema"][
        "properties"
    ]["operation"]["enum"],
)
async def test_agent_edit_operations(tenant: Tenant, agent_id: str, op: str) -> None:
    examples = example_body("patch", "/agent/v1")
    body: dict[str, Any] = {"operation": op, "agent_id": agent_id}
    for field in OPERATION_FIELDS.get(op, []):
        body[field] = examples[field]
    body.update({"voice_id": JOE.id} if op == "edit_voice" else {})
    extra = {
        "edit_intro_message": {"intro_message": "Hello! I'm calling from Ringg AI."},
        "edit_query_phrases": {"pre_query_response_phrases": ["One moment please."]},
        "edit_noise_settings": {"mute_while_bot_speaking": False},
        "edit_dtmf_settings": {"dtmf_settings": {}},
        "edit_vad_settings": {"vad_settings": {"interruption_sensitivity": "default"}},
        "edit_extract_callee_name": {"extract_callee_name": True},
        "edit_vocab": {"vocab": ["Ringg"]},
        "edit_api_settings": {"webhook_timeout_s": 30},
    }
    body.update(extra.get(op, {}))
    if op in ("attach_inbound_number", "remove_inbound_number"):
        # Inbound operations need an inbound agent and a number of this workspace.
        r = await tenant.client.patch(
            f"/public/agent/{agent_id}", json={"agent_type": "outbound_inbound"}
        )
        assert r.status_code == 200
        numbers = (await tenant.client.get("/workspace/numbers")).json()["workspace_numbers"]
        body["number_id"] = numbers[0]["id"]
    if op in ("attach_kb", "remove_kb"):
        body["kb_id"] = examples["kb_id"]
        r = await tenant.client.patch("/agent/v1", json=body)
        assert r.status_code == 404  # no such knowledge base in this workspace
        assert isinstance(r.json()["detail"], str)
        return
    r = await tenant.client.patch("/agent/v1", json=body)
    assert r.status_code == 200, (op, r.text)
    assert_conforms("patch", "/agent/v1", 200, r.json())


async def test_agent_edit_not_found(tenant: Tenant) -> None:
    body = {
        "operation": "edit_agent_display_name",
        "agent_id": "830f767a-397e-4b39-82ff-235cd344e2f9",
        "agent_display_name": "x",
    }
    r = await tenant.client.patch("/agent/v1", json=body)
    assert r.status_code == 404
    assert_conforms("patch", "/agent/v1", 404, r.json())
    assert r.json()["detail"] == "Agent not found"


async def test_agent_edit_bad_request(tenant: Tenant, agent_id: str) -> None:
    body = {"operation": "edit_language", "agent_id": agent_id, "language": "hi-IN"}
    r = await tenant.client.patch("/agent/v1", json=body)
    assert r.status_code == 400
    assert_conforms("patch", "/agent/v1", 400, r.json())


async def test_unauthorized_shape(anonymous: Any) -> None:
    r = await anonymous.get(
        "/workspace", headers={"X-API-KEY": "7251cb4b-3373-43a4-844c-b27a1d45e0c9"}
    )
    assert r.status_code == 401
    assert_conforms("get", "/workspace", 401, r.json())


async def test_delete_number_and_agent(tenant: Tenant, agent_id: str) -> None:
    numbers = (await tenant.client.get("/workspace/numbers")).json()["workspace_numbers"]
    r = await tenant.client.delete(f"/workspace/number/{numbers[0]['id']}")
    assert r.status_code == 200
    assert_conforms("delete", "/workspace/number/{number_id}", 200, r.json())
    r = await tenant.client.delete(f"/agent/{agent_id}")
    assert r.status_code == 200
    assert_conforms("delete", "/agent/{agent_id}", 200, r.json())
    for path in (f"/workspace/number/{numbers[0]['id']}", f"/agent/{agent_id}"):
        assert (await tenant.client.delete(path)).status_code == 404
