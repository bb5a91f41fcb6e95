"""Browser calls: the audio WebSocket and the widget's public key.

``WS /ca/api/v0/webcall/ws`` — the browser's first message is JSON::

    {"type": "start", "agent_id": "...", "api_key": "..." | "public_key": "...",
     "variables": {"callee_name": "Asha"}, "sample_rate_hz": 16000}

The server answers ``{"type": "started", "call_id": ..., "sample_rate_hz": 16000}`` and the
audio flows (see :mod:`callwright.providers.telephony.web`), or
``{"type": "error", "code": 4xx, "message": ...}`` and closes with code ``4000 + status``
(4401 bad key, 4403 origin not whitelisted, 4404 no such assistant, 4402 no credits).
"""

from __future__ import annotations

import asyncio
import json
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from callwright.api.deps import ContainerDep, WorkspaceId
from callwright.api.errors import status_for
from callwright.api.schemas.common import ERRORS
from callwright.api.schemas.web import PublicKeyRotated, WebCallStart
from callwright.bootstrap import Container
from callwright.domain.errors import DomainError, InvalidRequest
from callwright.providers.base import SAMPLE_RATE_HZ
from callwright.providers.telephony.web import ProtocolError, WebSocketStream
from callwright.services import web_calls

router = APIRouter(tags=["Browser calls"], responses=ERRORS)
log = logging.getLogger(__name__)
START_TIMEOUT_S = 10.0


@router.websocket("/webcall/ws", name="webcall_ws")
async def webcall_socket(websocket: WebSocket) -> None:
    container: Container = websocket.app.state.container
    await websocket.accept()
    try:
        start = await _start_message(websocket)
        caller = await web_calls.authorize(
            container.web_calls.dialer,
            agent_id=start.agent_id,
            api_key=start.api_key,
            public_key=start.public_key,
            origin=websocket.headers.get("origin"),
        )
        stream = WebSocketStream(websocket=websocket, sample_rate_hz=start.sample_rate_hz)
        variables = web_calls.clean_variables(start.variables)
        call = await container.web_calls.open(caller, variables)
    except DomainError as exc:
        await _refuse(websocket, status_for(exc), exc.message)
        return
    except ProtocolError as exc:
        await _refuse(websocket, 400, str(exc))
        return
    except WebSocketDisconnect:
        return
    await websocket.send_text(
        json.dumps(
            {
                "type": "started",
                "call_id": call.id,
                "agent_id": call.agent_id,
                "sample_rate_hz": SAMPLE_RATE_HZ,
            }
        )
    )
    await container.web_calls.converse(caller, call, stream)


async def _start_message(websocket: WebSocket) -> WebCallStart:
    try:
        text = await asyncio.wait_for(websocket.receive_text(), START_TIMEOUT_S)
    except TimeoutError as exc:
        raise InvalidRequest("Send the start message first") from exc
    except (KeyError, RuntimeError) as exc:  # a binary first message has no text
        raise InvalidRequest("The first message must be the JSON start message") from exc
    try:
        return WebCallStart.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "message"
        raise InvalidRequest(f"Invalid start message: {where}: {err['msg']}") from exc


async def _refuse(websocket: WebSocket, status: int, message: str) -> None:
    try:
        await websocket.send_text(json.dumps({"type": "error", "code": status, "message": message}))
        await websocket.close(code=4000 + status, reason=message[:120])
    except Exception:  # the browser already left
        log.debug("browser left before hearing why its call was refused")


@router.post(
    "/webcall/agents/{agent_id}/public-key",
    response_model=PublicKeyRotated,
    summary="Rotate an assistant's widget key (callwright)",
    description="The old key stops working at once; pages embedding the widget need the new one.",
)
async def rotate_public_key(
    c: ContainerDep, workspace_id: WorkspaceId, agent_id: str
) -> PublicKeyRotated:
    key = await web_calls.rotate_public_key(c.web_calls.dialer, workspace_id, agent_id)
    return PublicKeyRotated(message="Public key rotated", agent_id=agent_id, webcall_public_key=key)
