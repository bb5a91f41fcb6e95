"""Building and watching campaigns through the API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.api.bodies import public_agent
from tests.conftest import Tenant


def csv_of(numbers: list[str], *, header: str = "Mobile Number,Name") -> bytes:
    lines = [header] + [f"{n},Callee {i}" for i, n in enumerate(numbers)]
    return ("\r\n".join(lines) + "\r\n").encode()


def numbers(n: int, last4: str = "0004", *, start: int = 200) -> list[str]:
    """Distinct valid US numbers that share a sim behaviour (their last four digits)."""
    return [f"+1415{start + i:03d}{last4}" for i in range(n)]


async def agent_and_number(t: Tenant) -> tuple[str, dict[str, Any]]:
    await t.client.post("/workspace/credits", json={"amount": 10_000})
    agent = await t.client.post("/public/agent", json=public_agent())
    number = (await t.client.get("/workspace/numbers")).json()["workspace_numbers"][0]
    return agent.json()["data"]["id"], number


async def save(
    t: Tenant,
    agent_id: str,
    content: bytes,
    *,
    call_config: dict[str, Any] | None = None,
    **form: str,
) -> Any:
    data = {
        "variables_map": json.dumps({"callee_name": "Name"}),
        "agent_id": agent_id,
        "country_code": "+1",
        "campaign_name": "Test campaign",
        "call_config": json.dumps(
            call_config
            or {
                "call_time": {
                    "call_start_time": "00:00",
                    "call_end_time": "00:00",
                    "timezone": "UTC",
                }
            }
        ),
        **form,
    }
    return await t.client.post(
        "/campaign/save", data=data, files={"file": ("contacts.csv", content, "text/csv")}
    )


async def wait_campaign(
    t: Tenant, campaign_id: str, *statuses: str, timeout_s: float = 60
) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        r = await t.client.get(f"/campaign/{campaign_id}/status", params={"limit": 100})
        body: dict[str, Any] = r.json()
        if body["campaign"]["status"] in statuses:
            return body
        assert asyncio.get_running_loop().time() < deadline, body["campaign"]
        await asyncio.sleep(0.1)
