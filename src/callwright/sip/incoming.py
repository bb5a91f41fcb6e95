"""An INVITE we received: ringing until the platform answers or rejects it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from callwright.sip import sdp
from callwright.sip.addr import SipUri
from callwright.sip.call import ALLOW, SipCall, remote_party
from callwright.sip.dialog import Dialog
from callwright.sip.message import Request, SipParseError
from callwright.sip.transaction import ServerTransaction, response_to

if TYPE_CHECKING:
    from callwright.sip.ua import UserAgent


class CallGone(Exception):
    """The caller cancelled (or the agent shut down) before we answered."""


def offer_from(request: Request) -> sdp.MediaDescription | None:
    """The caller's audio offer, or None when it has none we can use (answered 488). Call
    only for an INVITE with a body: one without is a late offer (we offer in our 2xx)."""
    try:
        offer = sdp.parse(request.body)
    except SipParseError:
        return None
    return offer if offer.codec() is not None else None


class IncomingCall:
    def __init__(
        self,
        *,
        ua: UserAgent,
        request: Request,
        stx: ServerTransaction,
        offer: sdp.MediaDescription | None,  # None: a late offer (the answer comes in the ACK)
        to_tag: str,
    ) -> None:
        self.ua = ua
        self.request = request
        self.offer = offer
        self.to_tag = to_tag
        self.call_id = request.headers.get("Call-ID") or ""
        self.from_user = remote_party(request.headers.get("From"))
        self.to_user = _request_user(request) or remote_party(request.headers.get("To"))
        self.call: SipCall | None = None
        self.settled = False
        self.cancelled = asyncio.Event()
        self._stx = stx

    def ring(self) -> None:
        self._stx.respond(response_to(self.request, 180, "Ringing", to_tag=self.to_tag))

    def reject(self, status: int = 603, reason: str = "Decline") -> None:
        if self.settled:
            return
        self.settled = True
        self._stx.respond(response_to(self.request, status, reason, to_tag=self.to_tag))

    def cancel(self) -> None:
        """The caller sent CANCEL: answer the INVITE 487 and tell whoever is deciding."""
        self.reject(487, "Request Terminated")
        self.cancelled.set()

    async def answer(self) -> SipCall:
        """Accept the call: 200 OK with our SDP answer; the call's media starts at once."""
        if self.settled:
            raise CallGone("the caller hung up before the call was answered")
        rtp = await self.ua.open_rtp()
        if self.settled:  # cancelled while the RTP port was being bound
            rtp.close()
            raise CallGone("the caller hung up before the call was answered")
        self.settled = True
        dialog = Dialog.as_uas(
            self.request,
            local_tag=self.to_tag,
            contact=self.ua.contact(self.to_user or "callwright"),
            cseq=1,
        )
        ok = response_to(self.request, 200, "OK", to_tag=self.to_tag)
        ok.headers.add("Contact", dialog.contact)
        ok.headers.add("Allow", ALLOW)
        for value in self.request.headers.get_all("Record-Route"):
            ok.headers.add("Record-Route", value)
        ok.headers.add("Content-Type", "application/sdp")
        if self.offer is None:  # late offer: ours goes in the 200, the answer in the ACK
            call = SipCall(ua=self.ua, dialog=dialog, rtp=rtp, remote_media=None)
            ok.body = sdp.build(
                host=self.ua.contact_host, port=rtp.local_port, payload_types=(sdp.PCMU, sdp.PCMA)
            )
        else:
            codec = self.offer.codec()
            assert codec is not None
            rtp.set_remote(
                self.offer.host, self.offer.port, codec_pt=codec, event_pt=self.offer.event_pt()
            )
            rtp.sending = not self.offer.on_hold
            call = SipCall(ua=self.ua, dialog=dialog, rtp=rtp, remote_media=self.offer)
            ok.body = call.local_sdp(direction=sdp.answer_direction(self.offer.direction))
        call.pending_invite = self._stx
        self._stx.on_no_ack = lambda: _spawn_bye(self.ua, call)
        self.ua.adopt(call)
        self.call = call
        self._stx.respond(ok)
        return call


def _request_user(request: Request) -> str:
    try:
        return SipUri.parse(request.uri).user or ""
    except SipParseError:
        return ""


def _spawn_bye(ua: UserAgent, call: SipCall) -> None:
    """No ACK ever came for our 2xx: end the call (RFC 3261 §13.3.1.4)."""
    ua.spawn(call.hangup(), name="sip-no-ack-bye")
