"""Where Twilio reaches the platform: the per-process hub of every Twilio call in flight.

One :class:`TwilioGateway` per process (built by the composition root, shared by every
Twilio account's :class:`~callwright.providers.telephony.twilio.TwilioTelephony`). It

- writes the TwiML that answers a call: ``<Connect><Stream>`` to our media WebSocket, with
  a signed, expiring token naming the call as a ``<Parameter>``. Twilio's ``<Stream url>``
  does not support query strings (https://www.twilio.com/docs/voice/twiml/stream: "The url
  does not support query string parameters"; custom parameters arrive in the ``start``
  message's ``customParameters``), so the token travels there; a ``?token=`` on the URL is
  honoured as well, for clients that keep it;
- checks the ``X-Twilio-Signature`` of status callbacks and incoming-call webhooks with the
  right account's auth token (403 when wrong) and turns terminal call statuses (busy,
  no-answer, failed, canceled) into dial outcomes;
- admits a Media Stream only with a valid token for a call it expects (else closes the
  socket with 1008, policy violation) and hands the stream to whoever waits for it: the
  dial of an outbound call, or the inbound hook's conversation.

Everything here lives in one process: the WebSocket and callbacks of a call must reach the
node that placed it (route on the call id in the path at the load balancer).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol
from xml.sax.saxutils import quoteattr

import httpx

from callwright.providers.base import MediaStream
from callwright.providers.telephony.twilio_messages import Connected, MalformedMessage, Start
from callwright.providers.telephony.twilio_messages import parse_event as _parse
from callwright.providers.telephony.twilio_rest import TwilioRest
from callwright.providers.telephony.twilio_signature import MediaTokens, valid_twilio_signature
from callwright.providers.telephony.twilio_stream import (
    POLICY_VIOLATION,
    TextSocket,
    TwilioMediaStream,
)

log = logging.getLogger(__name__)

ROUTES_PREFIX = "/telephony/twilio"  # under the API prefix; see callwright.api.routes.twilio
TERMINAL_STATUSES = frozenset({"busy", "no-answer", "failed", "canceled", "completed"})
KEEP_FINISHED_CALLS = 1000  # ended calls whose late status callbacks we can still verify

Converse = Callable[[MediaStream], Awaitable[object]]
Abandon = Callable[[], Awaitable[object]]
InboundRefusal = Literal["busy", "rejected"]  # TwiML <Reject reason="…">


@dataclass(frozen=True, slots=True)
class InboundCall:
    """An incoming call, from Twilio's voice webhook (CallSid, AccountSid, From, To)."""

    call_sid: str
    account_sid: str
    from_number: str
    to_number: str


@dataclass(frozen=True, slots=True)
class InboundAnswer:
    """Take the call: ``call_id`` is our call (named in the media token); ``converse`` runs
    the conversation on the stream once Twilio connects it, and returns when it is over
    (the gateway hangs up after it). ``abandon`` runs instead if the stream never comes."""

    call_id: str
    converse: Converse
    abandon: Abandon | None = None


class InboundLine(Protocol):
    """The hook the composition root connects to the inbound-call service."""

    async def auth_token(self, *, account_sid: str, to_number: str) -> str | None:
        """The auth token of our Twilio account ``account_sid`` that owns ``to_number``
        (used to check the webhook's signature), or None if we have no such account."""
        ...

    async def answer(self, call: InboundCall) -> InboundAnswer | InboundRefusal:
        """Accept the call (the number has an inbound agent and room), or refuse it."""
        ...


class WebhookRejected(Exception):
    """A webhook we refuse; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class CallStatus:
    """A terminal status from Twilio's status callback."""

    status: str  # busy | no-answer | failed | canceled | completed
    sip_response_code: int | None = None


@dataclass(slots=True)
class Leg:
    """A call we expect Twilio to connect a Media Stream for."""

    call_id: str
    auth_token: str
    answered: asyncio.Future[TwilioMediaStream]
    ended: asyncio.Future[CallStatus]  # a terminal status before the stream started
    converse: Converse | None = None  # inbound: the conversation to run on the stream
    call_sid: str = ""
    statuses: list[str] = field(default_factory=list)  # CallStatus values, in arrival order


class TwilioGateway:
    def __init__(
        self,
        *,
        public_url: str,
        secret: bytes,
        api_prefix: str = "/ca/api/v0",
        inbound: InboundLine | None = None,
        token_lifetime_s: float = 300.0,
        start_timeout_s: float = 10.0,
        connect_timeout_s: float = 30.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._base = public_url.rstrip("/") + api_prefix + ROUTES_PREFIX
        self._tokens = MediaTokens(secret=secret, lifetime_s=token_lifetime_s)
        self._start_timeout_s = start_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._watchdogs: set[asyncio.Task[None]] = set()
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        self._legs: dict[str, Leg] = {}
        self._finished: OrderedDict[str, str] = OrderedDict()  # call id -> auth token
        self.inbound = inbound

    # ------------------------------------------------------------------ URLs and TwiML

    def status_url(self, call_id: str) -> str:
        return f"{self._base}/status/{call_id}"

    def voice_url(self) -> str:
        return f"{self._base}/voice"

    def media_url(self) -> str:
        scheme, _, rest = self._base.partition("://")
        return ("wss" if scheme == "https" else "ws") + "://" + rest + "/media"

    def connect_twiml(self, call_id: str) -> str:
        token = self._tokens.issue(call_id)
        return (
            '<?xml version="1.0" encoding="UTF-8"?><Response><Connect>'
            f"<Stream url={quoteattr(self.media_url())}>"
            f'<Parameter name="token" value={quoteattr(token)}/>'
            "</Stream></Connect></Response>"
        )

    def rest(self, *, account_sid: str, auth_token: str, api_base_url: str | None) -> TwilioRest:
        return TwilioRest(
            client=self._client,
            account_sid=account_sid,
            auth_token=auth_token,
            api_base_url=api_base_url,
        )

    # ------------------------------------------------------------------ legs

    def open_leg(self, call_id: str, auth_token: str, converse: Converse | None = None) -> Leg:
        if call_id in self._legs:
            raise ValueError(f"call {call_id} already has a Twilio leg in flight")
        loop = asyncio.get_running_loop()
        leg = Leg(call_id, auth_token, loop.create_future(), loop.create_future(), converse)
        self._legs[call_id] = leg
        return leg

    def close_leg(self, call_id: str) -> None:
        """Stop expecting the call (idempotent); later callbacks still verify for a while."""
        leg = self._legs.pop(call_id, None)
        if leg is None:
            return
        for future in (leg.answered, leg.ended):
            future.cancel()  # a late Media Stream for it is refused
        self._finished[call_id] = leg.auth_token
        while len(self._finished) > KEEP_FINISHED_CALLS:
            self._finished.popitem(last=False)

    def leg(self, call_id: str) -> Leg | None:
        return self._legs.get(call_id)

    @property
    def in_flight(self) -> int:
        """Calls ringing or connected through this gateway."""
        return len(self._legs)

    # ------------------------------------------------------------------ webhooks

    def on_status(
        self, call_id: str, params: list[tuple[str, str]], signature: str | None, request_url: str
    ) -> None:
        """A status callback for one of our calls. Raises WebhookRejected (404, 403)."""
        leg = self._legs.get(call_id)
        auth_token = leg.auth_token if leg else self._finished.get(call_id)
        if auth_token is None:
            raise WebhookRejected(404, "unknown call")
        urls = (self.status_url(call_id), request_url)
        if not _signed(auth_token, urls, params, signature):
            raise WebhookRejected(403, "invalid X-Twilio-Signature")
        if leg is None:
            return
        values = dict(params)
        status = values.get("CallStatus", "")
        leg.statuses.append(status)
        if status in TERMINAL_STATUSES and not leg.ended.done():
            code = values.get("SipResponseCode", "")
            leg.ended.set_result(CallStatus(status, int(code) if code.isdigit() else None))

    async def on_incoming(
        self, params: list[tuple[str, str]], signature: str | None, request_url: str
    ) -> str:
        """Twilio's voice webhook for a call to one of our numbers; returns the TwiML."""
        values = dict(params)
        call = InboundCall(
            call_sid=values.get("CallSid", ""),
            account_sid=values.get("AccountSid", ""),
            from_number=values.get("From", ""),
            to_number=values.get("To", ""),
        )
        if self.inbound is None:
            raise WebhookRejected(404, "inbound Twilio calls are not enabled on this server")
        auth_token = await self.inbound.auth_token(
            account_sid=call.account_sid, to_number=call.to_number
        )
        if auth_token is None:
            raise WebhookRejected(403, "unknown Twilio account or number")
        if not _signed(auth_token, (self.voice_url(), request_url), params, signature):
            raise WebhookRejected(403, "invalid X-Twilio-Signature")
        answer = await self.inbound.answer(call)
        if not isinstance(answer, InboundAnswer):
            return (
                '<?xml version="1.0" encoding="UTF-8"?>'
                f"<Response><Reject reason={quoteattr(answer)}/></Response>"
            )
        leg = self.open_leg(answer.call_id, auth_token, converse=answer.converse)
        leg.call_sid = call.call_sid
        watchdog = asyncio.create_task(self._watch(leg, answer.abandon), name="twilio-inbound")
        self._watchdogs.add(watchdog)
        watchdog.add_done_callback(self._watchdogs.discard)
        return self.connect_twiml(answer.call_id)

    async def _watch(self, leg: Leg, abandon: Abandon | None) -> None:
        """An answered inbound call whose Media Stream never connects is given up."""
        done, _ = await asyncio.wait({leg.answered}, timeout=self._connect_timeout_s)
        if done and not leg.answered.cancelled():
            return
        log.warning("twilio call %s: the media stream never connected", leg.call_sid)
        self.close_leg(leg.call_id)
        if abandon is not None:
            try:
                await abandon()
            except Exception:
                log.exception("abandoning inbound call %s failed", leg.call_id)

    # ------------------------------------------------------------------ media

    async def serve_media(self, socket: TextSocket, *, query_token: str | None = None) -> None:
        """Carry one Media Stream WebSocket (already accepted) until it ends."""
        start = await self._await_start(socket)
        if start is None:
            await socket.close(POLICY_VIOLATION, "expected a Media Streams 'start' message")
            return
        call_id = self._tokens.verify(query_token or start.custom_parameters.get("token"))
        leg = self._legs.get(call_id) if call_id else None
        if call_id is None or leg is None or leg.answered.done():
            await socket.close(POLICY_VIOLATION, "invalid or expired media token")
            return
        stream = TwilioMediaStream(socket=socket, start=start)
        leg.call_sid = leg.call_sid or start.call_sid
        leg.answered.set_result(stream)
        try:
            if leg.converse is None:
                await stream.run()  # the dial that waited for it carries the call
            else:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(stream.run())
                    tg.create_task(_converse(leg.converse, stream))
        finally:
            self.close_leg(call_id)

    async def _await_start(self, socket: TextSocket) -> Start | None:
        try:
            async with asyncio.timeout(self._start_timeout_s):
                while (text := await socket.receive_text()) is not None:
                    event = _parse(text)
                    if isinstance(event, Start):
                        return event
                    if not isinstance(event, Connected):
                        return None
        except (TimeoutError, MalformedMessage):
            return None
        return None

    async def aclose(self) -> None:
        """Hang up every stream still open and release the HTTP client."""
        streams = [
            leg.answered.result()
            for leg in self._legs.values()
            if leg.answered.done() and not leg.answered.cancelled()
        ]
        for stream in streams:
            await stream.hangup()
        for call_id in list(self._legs):
            self.close_leg(call_id)
        for watchdog in list(self._watchdogs):
            watchdog.cancel()
        await asyncio.gather(*self._watchdogs, return_exceptions=True)
        if self._owns_client:
            await self._client.aclose()


async def _converse(converse: Converse, stream: TwilioMediaStream) -> None:
    try:
        await converse(stream)
    except Exception:
        log.exception("inbound conversation on twilio stream %s failed", stream.stream_sid)
    finally:
        await stream.hangup()


def _signed(
    auth_token: str, urls: Iterable[str], params: list[tuple[str, str]], signature: str | None
) -> bool:
    return any(valid_twilio_signature(auth_token, url, params, signature) for url in urls)
