"""Recording events straight into the database, and checking what receivers got."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook

from callwright.bootstrap import Container
from callwright.domain.ids import new_id
from callwright.services import events
from callwright.webhooks.testing import ReceivedRequest


async def emit(app: FastAPI, workspace_id: str, agent_id: str, n: int = 1) -> list[str]:
    """Record ``n`` call_completed events for the agent, one transaction each; wake the relay."""
    c: Container = app.state.container
    ids = []
    for i in range(n):
        event_id = new_id()
        async with c.uow.begin() as session:
            await events.record(
                session,
                workspace_id=workspace_id,
                agent_id=agent_id,
                call_id=new_id(),
                event_type="call_completed",
                payload={"event_type": "call_completed", "event_id": event_id, "seq": i},
                event_id=event_id,
                now=datetime.now(UTC),
            )
        ids.append(event_id)
    c.webhook_relay.wake()
    return ids


def check_signature(req: ReceivedRequest, secret: str) -> str:
    """Verify with the standardwebhooks package; return the webhook-id. (The signed time
    may be virtual, so the signature is recomputed at it rather than checked against now.)"""
    msg_id = req.headers["webhook-id"]
    at = datetime.fromtimestamp(int(req.headers["webhook-timestamp"]), tz=UTC)
    expected = Webhook(secret).sign(msg_id, at, req.body.decode())
    assert expected in req.headers["webhook-signature"].split(" ")
    body: dict[str, Any] = json.loads(req.body)
    assert body["event_id"] == msg_id
    return msg_id
