"""Assistants: /public/agent, /agent/*, and PATCH /agent/v1 operations."""

from __future__ import annotations

from typing import Any

import pytest

from callwright.media.audio import rms, wav_to_pcm
from tests.api.bodies import HINDI, JOE, public_agent
from tests.conftest import Tenant


async def create(tenant: Tenant, **overrides: Any) -> str:
    r = await tenant.client.post("/public/agent", json=public_agent(**overrides))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["success"] is True and body["message"] == "Agent created successfully"
    assert body["data"]["version"] == "v1"
    agent_id: str = body["data"]["id"]
    return agent_id


async def detail(tenant: Tenant, agent_id: str) -> dict[str, Any]:
    r = await tenant.client.get(f"/agent/{agent_id}")
    assert r.status_code == 200, r.text
    agent: dict[str, Any] = r.json()["agents"]
    return agent


async def edit(tenant: Tenant, agent_id: str, operation: str, **fields: Any) -> Any:
    return await tenant.client.patch(
        "/agent/v1", json={"operation": operation, "agent_id": agent_id, **fields}
    )


def active(agent: dict[str, Any]) -> dict[str, Any]:
    version: dict[str, Any] = agent["version_details"][agent["active_agent_version_id"]]
    return version


async def test_create_and_read_back(tenant: Tenant) -> None:
    agent_id = await create(tenant)
    agent = await detail(tenant, agent_id)
    assert agent["agent_display_name"] == "My Sales Agent"
    assert agent["agent_type"] == "outbound" and agent["language"] == "en-IN"
    assert agent["voice"]["id"] == JOE.id and agent["voice"]["name"] == JOE.name
    # Outbound agents always carry the protected variables, first.
    assert list(agent["agent_config"]["custom_variables"]) == [
        "callee_name",
        "mobile_number",
        "company",
        "lead_source",
    ]
    prompt = agent["agent_config"]["agent_prompt"]
    assert "Introduction and Objective" in prompt and "Acme Corp" in prompt and "FAQs" in prompt
    version = active(agent)
    assert version["version_slug"] == "v1"
    sections = version["agent_config"]["agent_prompt"]["prompt_sections"]
    assert [s["section_title"] for s in sections][:3] == [
        "Introduction and Objective",
        "Response Guidelines",
        "Task",
    ]
    assert version["call_config"]["idle_timeout_warning"] == 5
    assert version["call_config"]["max_call_length"] == 240
    assert version["call_config"]["call_time"]["timezone"] == "Asia/Kolkata"


async def test_list_paging_and_archive(tenant: Tenant) -> None:
    ids = [await create(tenant, agent_name=f"Agent {i}") for i in range(3)]
    r = await tenant.client.get("/agent/all", params={"limit": 2})
    body = r.json()
    assert body["status"] == "success" and len(body["data"]["agents"]) == 2
    r = await tenant.client.get("/agent/all", params={"limit": 100})
    listed = [a["id"] for a in r.json()["data"]["agents"]]
    assert sorted(listed) == sorted(ids)

    r = await tenant.client.delete(f"/agent/{ids[0]}")
    assert r.status_code == 200 and r.json() == {"message": "Agent deleted successfully!"}
    assert (await tenant.client.get(f"/agent/{ids[0]}")).status_code == 404
    assert (await tenant.client.delete(f"/agent/{ids[0]}")).status_code == 404
    r = await tenant.client.get("/agent/all", params={"limit": 100})
    assert ids[0] not in [a["id"] for a in r.json()["data"]["agents"]]


async def test_create_validation(tenant: Tenant) -> None:
    r = await tenant.client.post("/public/agent", json=public_agent(primary_language="hi-IN"))
    assert r.status_code == 400
    assert r.json()["success"] is False
    assert r.json()["error"]["code"] == "VOICE_LANGUAGE_MISMATCH"
    assert r.json()["error"]["message"] == "Voice does not support language 'hi-IN'"

    r = await tenant.client.post("/public/agent", json=public_agent(voice_id="nope"))
    assert r.status_code == 400 and r.json()["error"]["code"] == "VOICE_NOT_FOUND"

    body = public_agent()
    del body["task"]
    r = await tenant.client.post("/public/agent", json=body)
    assert r.status_code == 422

    r = await tenant.client.post("/public/agent", json=public_agent(agent_name="x" * 101))
    assert r.status_code == 422
    r = await tenant.client.post("/public/agent", json=public_agent(custom_variables=["bad name"]))
    assert r.status_code == 400


async def test_public_update(tenant: Tenant) -> None:
    agent_id = await create(tenant)
    r = await tenant.client.patch(
        f"/public/agent/{agent_id}", json={"task": "Book demos.", "agent_name": "Renamed"}
    )
    assert r.status_code == 200 and r.json()["success"] is True
    assert r.json()["data"]["id"] == agent_id
    agent = await detail(tenant, agent_id)
    assert agent["agent_display_name"] == "Renamed"
    assert "Book demos." in agent["agent_config"]["agent_prompt"]
    assert "Acme Corp" in agent["agent_config"]["agent_prompt"]  # untouched sections stay

    r = await tenant.client.patch(
        f"/public/agent/{agent_id}", json={"custom_variables": ["company"]}
    )
    assert r.status_code == 403
    r = await tenant.client.patch(
        f"/public/agent/{agent_id}", json={"voice_id": HINDI.id, "primary_language": "hi-IN"}
    )
    assert r.status_code == 200
    assert (await detail(tenant, agent_id))["language"] == "hi-IN"
    r = await tenant.client.patch(
        "/public/agent/00000000-0000-0000-0000-000000000000", json={"task": "x"}
    )
    assert r.status_code == 404 and r.json()["success"] is False


async def test_edit_identity_prompt_intro(tenant: Tenant) -> None:
    agent_id = await create(tenant)
    r = await edit(tenant, agent_id, "edit_agent_display_name", agent_display_name="Collections")
    assert r.status_code == 200
    assert r.json() == {"message": "Agent updated successfully!", "agent_id": agent_id}
    r = await edit(tenant, agent_id, "edit_prompt", agent_prompt="You collect payments politely.")
    assert r.status_code == 200
    html = '<p>Hi <span data-type="mention" data-id="{{callee_name}}">@{{callee_name}}</span></p>'
    assert (
        await edit(tenant, agent_id, "edit_intro_message", intro_message=html)
    ).status_code == 200
    agent = await detail(tenant, agent_id)
    assert agent["agent_display_name"] == "Collections"
    assert agent["agent_config"]["agent_prompt"] == "You collect payments politely."
    assert agent["agent_config"]["intro_message"] == "Hi @{{callee_name}}"
    sections = {"prompt_sections": [{"section_title": "Goal", "section_content": "Collect"}]}
    assert (await edit(tenant, agent_id, "edit_prompt", agent_prompt=sections)).status_code == 200
    assert (await detail(tenant, agent_id))["agent_config"]["agent_prompt"] == "## Goal\nCollect"


async def test_edit_custom_vars_protects_outbound_variables(tenant: Tenant) -> None:
    agent_id = await create(tenant)
    r = await edit(tenant, agent_id, "edit_custom_vars", custom_variables=["company"])
    assert r.status_code == 403 and "callee_name" in r.json()["detail"]
    r = await edit(
        tenant,
        agent_id,
        "edit_custom_vars",
        custom_variables=["callee_name", "mobile_number", "amount_due"],
    )
    assert r.status_code == 200
    agent = await detail(tenant, agent_id)
    assert list(agent["agent_config"]["custom_variables"]) == [
        "callee_name",
        "mobile_number",
        "amount_due",
    ]
    # Inbound agents may drop them.
    inbound = await create(tenant, agent_type="inbound", custom_variables=[])
    r = await edit(tenant, inbound, "edit_custom_vars", custom_variables=["order_id"])
    assert r.status_code == 200
    assert list((await detail(tenant, inbound))["agent_config"]["custom_variables"]) == ["order_id"]


async def test_edit_language_and_voice(tenant: Tenant) -> None:
    agent_id = await create(tenant)
    r = await edit(tenant, agent_id, "edit_language", language="hi-IN")
    assert r.status_code == 400
    assert r.json()["detail"] == "Selected voice does not support the specified language"
    r = await edit(tenant, agent_id, "edit_voice", voice_id=HINDI.id, language="hi-IN")
    assert r.status_code == 200
    agent = await detail(tenant, agent_id)
    assert agent["language"] == "hi-IN" and agent["voice"]["id"] == HINDI.id
    r = await edit(tenant, agent_id, "edit_voice", voice_id=JOE.id)  # keeps hi-IN: mismatch
    assert r.status_code == 400
    r = await edit(tenant, agent_id, "edit_secondary_language", secondary_language="en-IN")
    assert r.status_code == 200
    assert (await detail(tenant, agent_id))["secondary_language"] == "en-IN"
    assert (await edit(tenant, agent_id, "edit_voice_speed", voice_speed=1.2)).status_code == 200
    assert (await edit(tenant, agent_id, "edit_voice_speed", voice_speed=9)).status_code == 400


async def test_edit_call_config_deep_merges(tenant: Tenant) -> None:
    agent_id = await create(tenant)
    r = await edit(
        tenant,
        agent_id,
        "edit_call_config",
        call_config={"max_call_length": 300, "call_time": {"call_start_time": "09:00"}},
    )
    assert r.status_code == 200
    config = active(await detail(tenant, agent_id))["call_config"]
    assert config["max_call_length"] == 300
    assert config["call_time"]["call_start_time"] == "09:00"
    assert config["call_time"]["call_end_time"] == "23:00"  # kept
    assert config["idle_timeout_end"] == 10
    bad = {"call_time": {"call_start_time": "25:00"}}
    assert (await edit(tenant, agent_id, "edit_call_config", call_config=bad)).status_code == 400


async def test_edit_event_subscriptions_and_analysis(tenant: Tenant) -> None:
    agent_id = await create(tenant)
    subs = [
        {
            "event_type": ["call_completed", "all_processing_completed"],
            "callback_url": "https://api.example.com/webhooks/ringg",
            "headers": {"Authorization": "Bearer receiver-token"},
            "method_type": "POST",
        },
        {"event_type": "call_started", "callback_url": "https://api.example.com/started"},
    ]
    r = await edit(tenant, agent_id, "edit_event_subscriptions", event_subscriptions=subs)
    assert r.status_code == 200, r.text
    stored = active(await detail(tenant, agent_id))["event_subscriptions"]
    assert stored[0]["event_type"] == ["call_completed", "all_processing_completed"]
    assert stored[1]["event_type"] == ["call_started"]  # a string is accepted, a list is emitted
    bad = [{"event_type": "call_exploded", "callback_url": "https://x.example"}]
    assert (
        await edit(tenant, agent_id, "edit_event_subscriptions", event_subscriptions=bad)
    ).status_code == 400
    assert (
        await edit(tenant, agent_id, "edit_event_subscriptions", event_subscriptions=[])
    ).status_code == 200
    assert active(await detail(tenant, agent_id))["event_subscriptions"] == []

    labels = {"interested": "wants a demo", "not_interested": "declined"}
    r = await edit(tenant, agent_id, "edit_classification_labels", classification_labels=labels)
    assert r.status_code == 200
    prompt = {"prompt": "Extract the amount promised", "keys": {"amount": "number"}}
    r = await edit(tenant, agent_id, "edit_custom_analysis_prompt", custom_analysis_prompt=prompt)
    assert r.status_code == 200
    agent = await detail(tenant, agent_id)
    assert agent["classification_labels"] == labels
    assert active(agent)["custom_analysis_prompt"] == prompt
    too_many = {f"l{i}": "x" for i in range(11)}
    r = await edit(tenant, agent_id, "edit_classification_labels", classification_labels=too_many)
    assert r.status_code == 400


async def test_edit_errors(tenant: Tenant) -> None:
    agent_id = await create(tenant)
    r = await edit(tenant, agent_id, "edit_everything")
    assert r.status_code == 400 and "Unsupported operation" in r.json()["detail"]
    r = await edit(tenant, agent_id, "attach_kb")
    assert r.status_code == 400
    assert r.json()["detail"] == "'kb_id' is required for operation 'attach_kb'"
    r = await edit(tenant, "00000000-0000-0000-0000-000000000000", "edit_prompt", agent_prompt="x")
    assert r.status_code == 404 and r.json()["detail"] == "Agent not found"
    r = await tenant.client.patch("/agent/v1", json={"agent_id": agent_id})
    assert r.status_code == 422
    r = await edit(tenant, agent_id, "attach_kb", kb_id="00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404


async def test_versions(tenant: Tenant) -> None:
    agent_id = await create(tenant)
    agent = await detail(tenant, agent_id)
    v1 = agent["active_agent_version_id"]
    r = await edit(tenant, agent_id, "add_new_ab_version", description="shorter intro")
    assert r.status_code == 200
    v2 = r.json()["version_id"]
    assert r.json()["version_slug"] == "v2"
    # Edits target the active version unless a version_id is given.
    r = await edit(tenant, agent_id, "edit_intro_message", intro_message="Hi!", version_id=v2)
    assert r.status_code == 200
    agent = await detail(tenant, agent_id)
    assert agent["agent_config"]["intro_message"].startswith("Hello")
    assert agent["version_details"][v2]["agent_config"]["intro_message"] == "Hi!"
    assert agent["ab_versions"][v2]["slug"] == "v2"
    assert (await edit(tenant, agent_id, "delete_version", version_id=v1)).status_code == 400
    assert (await edit(tenant, agent_id, "push_to_prod", prod_version_id=v2)).status_code == 200
    agent = await detail(tenant, agent_id)
    assert agent["active_agent_version_id"] == v2
    assert agent["agent_config"]["intro_message"] == "Hi!"
    assert (await edit(tenant, agent_id, "delete_version", version_id=v1)).status_code == 200
    assert list((await detail(tenant, agent_id))["version_details"]) == [v2]
    missing = "00000000-0000-0000-0000-000000000000"
    r = await edit(tenant, agent_id, "edit_prompt", agent_prompt="x", version_id=missing)
    assert r.status_code == 404


async def test_voices(tenant: Tenant) -> None:
    r = await tenant.client.get("/agent/voices")
    assert r.status_code == 200
    voices = r.json()["voices"]
    assert any(v["id"] == JOE.id and v["languages"] == ["en-US", "en-IN", "en-GB"] for v in voices)
    r = await tenant.client.get("/agent/voices", params={"language": "hi-IN,ta-IN"})
    langs = [set(v["languages"]) & {"hi-IN", "ta-IN"} for v in r.json()["voices"]]
    assert langs and all(langs)


@pytest.mark.engines
async def test_voice_preview_is_real_audio(tenant: Tenant) -> None:
    voices = (await tenant.client.get("/agent/voices", params={"language": "en-US"})).json()[
        "voices"
    ]
    joe = next(v for v in voices if v["id"] == JOE.id)
    url = joe["voice_previews"]["en-US"]
    r = await tenant.client.get(url)  # public: no key needed, but the client sends one anyway
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    pcm, rate, channels = wav_to_pcm(r.content)
    assert rate == 16000 and channels == 1
    assert len(pcm) / 2 / rate > 1.0 and rms(pcm) > 300  # over a second of audible speech
    r = await tenant.client.get(url.replace("language=en-US", "language=hi-IN"))
    assert r.status_code == 400
    r = await tenant.client.get("/agent/voices/00000000-0000-0000-0000-000000000000/preview")
    assert r.status_code == 404
