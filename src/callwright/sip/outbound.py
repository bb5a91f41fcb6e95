"""Placing a call: INVITE with our SDP offer, ringing, digest challenges, ring timeout and
CANCEL, and the 2xx ACK that confirms the dialog (RFC 3261 §13.2, §9.1)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass

from callwright.sip import sdp
from callwright.sip.call import ALLOW, SipCall
from callwright.sip.dialog import Dialog
from callwright.sip.message import Headers, Request, Response, SipParseError
from callwright.sip.rtp import RtpSession
from callwright.sip.transaction import ClientTransaction
from callwright.sip.ua import SipError, UserAgent

log = logging.getLogger(__name__)

CANCEL_WAIT_S = 4.0  # how long the 487 may take after our CANCEL
NO_ANSWER = 487


@dataclass(frozen=True, slots=True)
class InviteOutcome:
    """How the INVITE ended: ``status`` is the final SIP status (487 after our CANCEL for the
    ring timeout, 408 when nothing answered at all) and ``call`` is set on 2xx."""

    status: int
    reason: str
    call_id: str
    call: SipCall | None = None
    ringing: bool = False


async def place_call(
    ua: UserAgent, *, to_user: str, from_user: str, ring_timeout_s: float, display: str = ""
) -> InviteOutcome:
    if ua.config.proxy is None:
        raise SipError("no trunk configured to place calls through")
    rtp = await ua.open_rtp()
    try:
        outcome = await _invite(
            ua,
            rtp,
            to_user=to_user,
            from_user=from_user,
            ring_timeout_s=ring_timeout_s,
            display=display,
        )
    except BaseException:
        rtp.close()
        raise
    if outcome.call is None:
        rtp.close()
    return outcome


def _build_invite(
    ua: UserAgent, rtp: RtpSession, *, to_user: str, from_user: str, display: str
) -> Request:
    domain = ua.config.domain
    h = Headers()
    h.add("Via", ua.via())
    h.add("Max-Forwards", "70")
    name = f'"{display}" ' if display else ""
    h.add("From", f"{name}<sip:{from_user}@{domain}>;tag={ua.new_tag()}")
    h.add("To", f"<sip:{to_user}@{domain}>")
    h.add("Call-ID", f"{secrets.token_hex(12)}@{ua.contact_host}")
    h.add("CSeq", "1 INVITE")
    h.add("Contact", ua.contact(from_user))
    h.add("Allow", ALLOW)
    h.add("Content-Type", "application/sdp")
    body = sdp.build(host=ua.contact_host, port=rtp.local_port, payload_types=(sdp.PCMU, sdp.PCMA))
    return Request("INVITE", f"sip:{to_user}@{domain}", h, body)


def _cancel_for(invite: Request) -> Request:
    h = Headers()
    h.add("Via", invite.headers.get_all("Via")[0])
    for name in ("Route",):
        for value in invite.headers.get_all(name):
            h.add(name, value)
    for name in ("From", "To", "Call-ID"):
        h.add(name, invite.headers.get(name) or "")
    h.add("CSeq", f"{(invite.headers.get('CSeq') or '1').split()[0]} CANCEL")
    h.add("Max-Forwards", "70")
    return Request("CANCEL", invite.uri, h)


async def _invite(
    ua: UserAgent,
    rtp: RtpSession,
    *,
    to_user: str,
    from_user: str,
    ring_timeout_s: float,
    display: str,
) -> InviteOutcome:
    assert ua.config.proxy is not None
    invite = _build_invite(ua, rtp, to_user=to_user, from_user=from_user, display=display)
    call_id = invite.headers.get("Call-ID") or ""
    tx = ua.client(invite, ua.config.proxy)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ring_timeout_s
    cancelled, authenticated, ringing = False, False, False
    try:
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    response = await tx.responses.get()
            except TimeoutError:
                if cancelled:
                    return InviteOutcome(NO_ANSWER, "no answer to CANCEL", call_id, ringing=ringing)
                if not tx.provisional:  # nothing came back at all: nothing to cancel
                    return InviteOutcome(408, "Request Timeout", call_id)
                _cancel(ua, tx)
                cancelled, deadline = True, loop.time() + CANCEL_WAIT_S
                continue
            if response.status < 200:
                ringing = ringing or response.status in (180, 183)
                continue
            if response.status in (401, 407) and not authenticated:
                again = ua.authorized(invite, response)
                if again is not None:
                    ua.retire(tx)
                    invite, authenticated = again, True
                    tx = ua.client(invite, ua.config.proxy)
                    continue
            if response.status >= 300:
                return InviteOutcome(response.status, response.reason, call_id, ringing=ringing)
            call = _confirm(ua, rtp, invite, response)
            if cancelled and call is not None:
                await call.hangup()  # answered just as we gave up: the CANCEL lost the race
                return InviteOutcome(
                    NO_ANSWER, "answered after ring timeout", call_id, ringing=ringing
                )
            if call is None:
                return InviteOutcome(488, "no usable audio in the answer", call_id, ringing=ringing)
            return InviteOutcome(response.status, response.reason, call_id, call, ringing)
    except asyncio.CancelledError:
        if tx.provisional and tx.final is None:
            _cancel(ua, tx)
        raise
    finally:
        ua.retire(tx)


def _cancel(ua: UserAgent, tx: ClientTransaction) -> None:
    cancel = ua.client(_cancel_for(tx.request), tx.addr)
    ua.retire(cancel)


def _confirm(ua: UserAgent, rtp: RtpSession, invite: Request, response: Response) -> SipCall | None:
    """ACK the 2xx and build the call; if the answer has no audio we can use, ACK then BYE."""
    dialog = Dialog.as_uac(invite, response, contact=invite.headers.get("Contact") or "")
    ack = dialog.request("ACK", via=ua.via())
    ua.transport.send(ack, dialog.next_hop())
    ua.remember_ack(dialog.call_id, ack, dialog.next_hop())
    try:
        answer = sdp.parse(response.body)
        codec = answer.codec()
    except SipParseError:
        answer, codec = None, None
    if codec is None or answer is None:
        call = SipCall(
            ua=ua, dialog=dialog, rtp=rtp, remote_media=sdp.MediaDescription("0.0.0.0", 0, ())
        )
        ua.adopt(call)
        ua.spawn(call.hangup(), name="sip-bye-no-media")
        return None
    rtp.set_remote(answer.host, answer.port, codec_pt=codec, event_pt=answer.event_pt())
    rtp.sending = not answer.on_hold
    call = SipCall(ua=ua, dialog=dialog, rtp=rtp, remote_media=answer)
    ua.adopt(call)
    return call
