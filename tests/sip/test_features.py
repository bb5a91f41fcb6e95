"""Mid-call features against sipp: DTMF in (RFC 4733 and SIP INFO), hold and resume by
re-INVITE with a session timer, an UPDATE refresh, transfer by REFER; and REGISTER with a
digest challenge, withdrawn at shutdown; and a caller's late offer (INVITE without SDP)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np
import pytest

from callwright.media.audio import rms
from callwright.providers.base import DialOutcome, DialRequest
from callwright.sip import IncomingCall, SipCall, UaConfig, UserAgent
from tests.sip.conftest import Sipp, needs_sipp, rtp_range, sip_telephony

pytestmark = [needs_sipp, pytest.mark.usefixtures("no_leaks"), pytest.mark.timeout(60)]

TONE = (np.sin(2 * np.pi * 440 * np.arange(320) / 16_000) * 8000).astype("<i2").tobytes()


async def _until(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110 - state set by protocol callbacks
            await asyncio.sleep(0.02)


async def test_dtmf_hold_session_refresh_and_transfer(sipp: Callable[..., Sipp]) -> None:
    far = sipp("uas_features.xml")
    await far.start()
    telephony = sip_telephony(far.port)
    try:
        result = await telephony.dial(
            DialRequest(call_id="f1", from_number="+15550100000", to_number="+14155550100")
        )
        assert result.outcome is DialOutcome.ANSWERED
        call = result.stream
        assert isinstance(call, SipCall) and call.rtp.event_pt == 101
        assert await asyncio.wait_for(call.next_dtmf(), 5) == "1"  # RFC 4733, sipp's pcap
        assert await asyncio.wait_for(call.next_dtmf(), 5) == "5"  # SIP INFO
        await _until(lambda: call.held)  # re-INVITE a=sendonly: on hold, we answered recvonly
        assert not call.rtp.sending
        await _until(lambda: call.renegotiations == 3)  # resumed, then refreshed by UPDATE
        assert not call.held and call.rtp.sending
        assert await call.transfer("sip:+14155550999@127.0.0.1") is True
        assert call.ended_by == "local"
        assert await far.wait() == 0  # sipp saw every answer it checks, and our BYE
    finally:
        await telephony.aclose()


async def test_register_with_digest_then_unregister(sipp: Callable[..., Sipp]) -> None:
    far = sipp("uas_register.xml")
    await far.start()
    telephony = sip_telephony(far.port, username="alice", password="s3cret-pass", registration=True)
    try:
        ua = await telephony.start()
        await asyncio.wait_for(ua.registration.registered.wait(), 5)
        assert ua.registration.last_status == 200
    finally:
        await telephony.aclose()  # unregisters (Expires: 0)
    assert await far.wait() == 0


async def test_late_offer_from_a_caller(sipp: Callable[..., Sipp]) -> None:
    """An INVITE without SDP: we offer in the 200, take the answer from the ACK, media flows."""
    lo, hi = rtp_range()
    echoed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def answer(incoming: IncomingCall) -> None:
        call = await incoming.answer()
        await _until(lambda: not call.awaiting_answer)
        assert call.rtp.codec_pt == 8  # the answer in the ACK chose PCMA
        loud = 0
        for _ in range(40):
            call.send(TONE)
            await asyncio.sleep(0.02)
        while (frame := await call.receive()) is not None:
            loud += rms(frame) > 1000
        echoed.set_result(loud)

    ua = UserAgent(config=UaConfig(rtp_port_min=lo, rtp_port_max=hi), on_incoming=answer)
    await ua.start()
    try:
        far = sipp(
            "uac_late_offer.xml", "-rtp_echo", "-s", "+15550100000", remote=f"127.0.0.1:{ua.port}"
        )
        await far.start()
        assert await far.wait() == 0
        assert await asyncio.wait_for(echoed, 5) > 20
    finally:
        await ua.aclose()
