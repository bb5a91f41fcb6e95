"""One established SIP call: its dialog, its RTP session and the platform's MediaStream.

In-dialog requests from the far end (BYE, re-INVITE/UPDATE for hold and session-timer
refreshes, INFO DTMF, NOTIFY for our transfers) are answered here, synchronously."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from callwright.sip import sdp
from callwright.sip.addr import NameAddr
from callwright.sip.dialog import Dialog
from callwright.sip.message import Request, Response, SipParseError
from callwright.sip.rtp import RtpSession
from callwright.sip.transaction import ServerTransaction, response_to

log = logging.getLogger(__name__)

BYE_TIMEOUT_S = 2.0
TRANSFER_TIMEOUT_S = 30.0
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, NOTIFY, REFER"


class Signalling(Protocol):
    """What a call needs from its user agent."""

    contact_host: str

    def via(self) -> str: ...

    async def request(self, request: Request, addr: tuple[str, int]) -> Response: ...

    def forget(self, call: SipCall) -> None: ...

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]: ...


class SipCall:
    """A connected call. Implements the platform's ``MediaStream``."""

    def __init__(
        self,
        *,
        ua: Signalling,
        dialog: Dialog,
        rtp: RtpSession,
        remote_media: sdp.MediaDescription | None,  # None until a late offer's ACK answers
        on_dtmf: Callable[[str], None] | None = None,
    ) -> None:
        self.ua = ua
        self.dialog = dialog
        self.rtp = rtp
        self.remote_media = remote_media or sdp.MediaDescription("0.0.0.0", 0, ())
        self.awaiting_answer = remote_media is None
        # DTMF received, in order (RFC 4733 or SIP INFO); same surface as Twilio's stream
        self.received_dtmf: list[str] = []
        self._dtmf: asyncio.Queue[str] = asyncio.Queue()
        self.ended = asyncio.Event()
        self.ended_by: str | None = None  # "local" | "remote" | "error"
        self._on_dtmf = on_dtmf
        self._notify: asyncio.Queue[str] = asyncio.Queue()
        self._bye_lock = asyncio.Lock()
        self.pending_invite: ServerTransaction | None = None  # our 2xx awaiting its ACK
        self.renegotiations = 0  # re-INVITEs and UPDATEs accepted (hold, resume, refresh)
        rtp.on_dtmf = self._digit

    @property
    def held(self) -> bool:
        """True while the far end holds the call (we then send no audio)."""
        return self.remote_media.on_hold

    @property
    def call_id(self) -> str:
        return self.dialog.call_id

    # ------------------------------------------------------------------ MediaStream

    async def receive(self) -> bytes | None:
        return await self.rtp.receive()

    def send(self, frame: bytes) -> None:
        self.rtp.send(frame)

    def clear(self) -> None:
        """Nothing to drop: frames leave as soon as they are sent (the session paces them)."""

    async def hangup(self) -> None:
        """Send BYE (once) and end the call; waits at most ``BYE_TIMEOUT_S`` for the answer."""
        async with self._bye_lock:
            if self.ended.is_set():
                return
            self.end("local")
            bye = self.dialog.request("BYE", via=self.ua.via())
            try:
                async with asyncio.timeout(BYE_TIMEOUT_S):
                    await self.ua.request(bye, self.dialog.next_hop())
            except TimeoutError:
                log.info("no answer to BYE for call %s", self.call_id)

    def end(self, by: str) -> None:
        if self.ended.is_set():
            return
        self.ended_by = by
        self.rtp.close()
        self.ended.set()
        self.ua.forget(self)

    # ------------------------------------------------------------------ features

    async def send_dtmf(self, digits: str) -> None:
        for digit in digits:
            await self.rtp.send_dtmf(digit)

    async def transfer(self, target: str) -> bool:
        """Blind transfer by REFER (RFC 3515): True once the far end reports the transferred
        call answered, after which we hang up; False if it refused or failed."""
        refer = self.dialog.request("REFER", via=self.ua.via())
        refer.headers.add("Refer-To", f"<{target}>")
        refer.headers.add("Referred-By", f"<{self.dialog.local.uri}>")
        response = await self.ua.request(refer, self.dialog.next_hop())
        if not 200 <= response.status < 300:
            return False
        try:
            async with asyncio.timeout(TRANSFER_TIMEOUT_S):
                while True:
                    status = await self._notify.get()
                    code = (
                        int(status.split()[1])
                        if len(status.split()) > 1 and status.split()[1].isdigit()
                        else 0
                    )
                    if code >= 200:
                        break
        except TimeoutError:
            return False
        if 200 <= code < 300:
            await self.hangup()
            return True
        return False

    async def next_dtmf(self) -> str:
        """Wait for the next digit the far end presses."""
        return await self._dtmf.get()

    def _digit(self, digit: str) -> None:
        self.received_dtmf.append(digit)
        self._dtmf.put_nowait(digit)
        if self._on_dtmf is not None:
            self._on_dtmf(digit)

    # ------------------------------------------------------------------ far-end requests

    def on_ack(self, request: Request) -> None:
        if self.pending_invite is not None:
            self.pending_invite.ack()
            self.pending_invite = None
        if self.awaiting_answer:  # the SDP answer to the offer in our 2xx (late offer)
            self.awaiting_answer = False
            try:
                answer = sdp.parse(request.body)
                codec = answer.codec()
            except SipParseError:
                codec = None
            if codec is None:
                log.info("no usable SDP answer in the ACK of call %s: hanging up", self.call_id)
                self.ua.spawn(self.hangup(), name="sip-bye-bad-answer")
                return
            self.remote_media = answer
            self.rtp.set_remote(
                answer.host, answer.port, codec_pt=codec, event_pt=answer.event_pt()
            )
            self.rtp.sending = not answer.on_hold

    def on_request(self, request: Request, stx: ServerTransaction) -> None:
        method = request.method
        if not self.dialog.accepts(request):
            stx.respond(response_to(request, 500, "Server Internal Error"))
            return
        if method == "BYE":
            stx.respond(response_to(request, 200, "OK"))
            self.end("remote")
        elif method in ("INVITE", "UPDATE"):
            self._renegotiate(request, stx)
        elif method == "INFO":
            self._info(request)
            stx.respond(response_to(request, 200, "OK"))
        elif method == "NOTIFY":
            stx.respond(response_to(request, 200, "OK"))
            if (request.headers.get("Event") or "").lower().startswith("refer"):
                self._notify.put_nowait(request.body.decode("utf-8", "replace").strip())
        elif method == "OPTIONS":
            ok = response_to(request, 200, "OK")
            ok.headers.add("Allow", ALLOW)
            stx.respond(ok)
        elif method == "REFER":
            stx.respond(response_to(request, 603, "Decline"))  # we never transfer on request
        else:
            bad = response_to(request, 405, "Method Not Allowed")
            bad.headers.add("Allow", ALLOW)
            stx.respond(bad)

    def _renegotiate(self, request: Request, stx: ServerTransaction) -> None:
        """re-INVITE / UPDATE: hold, resume, a new address, or a session-timer refresh."""
        if request.body:
            try:
                offer = sdp.parse(request.body)
            except SipParseError:
                stx.respond(response_to(request, 488, "Not Acceptable Here"))
                return
            codec = offer.codec()
            if codec is None:
                stx.respond(response_to(request, 488, "Not Acceptable Here"))
                return
            self.remote_media = offer
            if not offer.on_hold:
                self.rtp.set_remote(
                    offer.host, offer.port, codec_pt=codec, event_pt=offer.event_pt()
                )
            self.rtp.sending = not offer.on_hold
        ok = response_to(request, 200, "OK")
        ok.headers.add("Contact", self.dialog.contact)
        ok.headers.add("Allow", ALLOW)
        for name in ("Session-Expires",):
            value = request.headers.get(name)
            if value is not None:  # we let the far end refresh: echo its interval
                ok.headers.add(name, value if "refresher" in value else f"{value};refresher=uac")
        ok.headers.add("Content-Type", "application/sdp")
        self.dialog.sdp_version += 1
        ok.body = self.local_sdp(direction=sdp.answer_direction(self.remote_media.direction))
        if request.method == "INVITE":
            self.pending_invite = stx
        self.renegotiations += 1
        stx.respond(ok)

    def local_sdp(self, *, direction: str = "sendrecv") -> bytes:
        return sdp.build(
            host=self.ua.contact_host,
            port=self.rtp.local_port,
            payload_types=(self.rtp.codec_pt,),
            event_pt=self.rtp.event_pt,
            direction=direction,
            session_id=abs(hash(self.call_id)) % 10**9,
            version=self.dialog.sdp_version,
        )

    def _info(self, request: Request) -> None:
        """SIP INFO DTMF (application/dtmf-relay: ``Signal=5``)."""
        if "dtmf" not in (request.headers.get("Content-Type") or "").lower():
            return
        for line in request.body.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip().lower() == "signal" and value.strip()[:1] in "0123456789*#ABCD":
                if value.strip():
                    self._digit(value.strip()[0])


def remote_party(header: str | None) -> str:
    """The user part of a From/To header (a phone number, usually), or ``""``."""
    try:
        return NameAddr.parse(header or "").uri.user or ""
    except SipParseError:
        return ""
