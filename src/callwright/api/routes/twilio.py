"""Twilio's ways into the platform: status callbacks, the incoming-call webhook, Media Streams.

These are called by Twilio, not by API users: they carry no X-API-KEY. Webhooks are
authenticated by ``X-Twilio-Signature`` (403 when it does not match), the Media Stream by
the signed token in the TwiML we answered with (the socket is closed with 1008, policy
violation, when it is missing, forged or expired). The work happens in
:class:`callwright.providers.telephony.twilio_gateway.TwilioGateway`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, WebSocket
from fastapi.responses import Response
from starlette.requests import HTTPConnection

from callwright.domain.errors import DomainError, Forbidden, NotFound
from callwright.providers.telephony.twilio_gateway import (
    ROUTES_PREFIX,
    TwilioGateway,
    WebhookRejected,
)
from callwright.providers.telephony.twilio_signature import SIGNATURE_HEADER
from callwright.providers.telephony.twilio_stream import NORMAL_CLOSURE

router = APIRouter(prefix=ROUTES_PREFIX, tags=["Telephony"], include_in_schema=False)


def get_gateway(connection: HTTPConnection) -> TwilioGateway:
    gateway: TwilioGateway | None = getattr(connection.app.state.container, "twilio", None)
    if gateway is None:
        raise NotFound("Twilio is not enabled on this server")
    return gateway


GatewayDep = Annotated[TwilioGateway, Depends(get_gateway)]


async def _form(request: Request) -> list[tuple[str, str]]:
    form = await request.form()
    return [(name, value) for name, value in form.multi_items() if isinstance(value, str)]


def _refused(exc: WebhookRejected) -> DomainError:
    return Forbidden(exc.message) if exc.status == 403 else NotFound(exc.message)


@router.post("/status/{call_id}", status_code=204, response_class=Response)
async def status_callback(call_id: str, request: Request, gateway: GatewayDep) -> Response:
    """Twilio's status callback for a call we placed (form-encoded CallStatus, CallSid …)."""
    params = await _form(request)
    try:
        gateway.on_status(call_id, params, request.headers.get(SIGNATURE_HEADER), str(request.url))
    except WebhookRejected as exc:
        raise _refused(exc) from exc
    return Response(status_code=204)


@router.post("/voice", response_class=Response)
async def incoming_call(request: Request, gateway: GatewayDep) -> Response:
    """Twilio's voice webhook for a call to one of our numbers: answer with TwiML."""
    params = await _form(request)
    try:
        twiml = await gateway.on_incoming(
            params, request.headers.get(SIGNATURE_HEADER), str(request.url)
        )
    except WebhookRejected as exc:
        raise _refused(exc) from exc
    return Response(twiml, media_type="text/xml")


@router.websocket("/media")
async def media_stream(websocket: WebSocket, gateway: GatewayDep, token: str | None = None) -> None:
    """The bidirectional Media Stream of one call (Twilio's ``<Connect><Stream>``)."""
    await websocket.accept()
    await gateway.serve_media(_StarletteSocket(websocket), query_token=token)


class _StarletteSocket:
    """Starlette's WebSocket as the TextSocket a TwilioMediaStream reads and writes."""

    def __init__(self, websocket: WebSocket) -> None:
        self._ws = websocket
        self._gone = False  # the client disconnected
        self._closed = False  # we sent a close

    async def receive_text(self) -> str | None:
        while not self._gone:
            try:
                message = await self._ws.receive()
            except RuntimeError:  # receive after the disconnect: the socket is gone
                message = {"type": "websocket.disconnect"}
            if message["type"] == "websocket.disconnect":
                self._gone = True
                break
            text = message.get("text")
            if isinstance(text, str):
                return text
        return None

    async def send_text(self, text: str) -> None:
        await self._ws.send_text(text)

    async def close(self, code: int = NORMAL_CLOSURE, reason: str = "") -> None:
        if self._closed or self._gone:
            return
        self._closed = True
        try:
            await self._ws.close(code, reason)
        except RuntimeError:  # already closed by the other side
            pass
