"""Our user agent calling itself on loopback: DTMF out (RFC 4733) and in, and a caller who
gives up while the callee still rings (CANCEL → 487, the answer comes too late)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from callwright.sip import CallGone, IncomingCall, SipCall, UaConfig, UserAgent, place_call
from tests.sip.conftest import rtp_range

pytestmark = [pytest.mark.usefixtures("no_leaks"), pytest.mark.timeout(30)]

Handler = Callable[[IncomingCall], Awaitable[None]]


async def _pair(handler: Handler) -> tuple[UserAgent, UserAgent]:
    lo, hi = rtp_range()
    callee = UserAgent(config=UaConfig(rtp_port_min=lo, rtp_port_max=lo + 98), on_incoming=handler)
    await callee.start()
    caller = UserAgent(
        config=UaConfig(proxy=("127.0.0.1", callee.port), rtp_port_min=lo + 100, rtp_port_max=hi)
    )
    await caller.start()
    return caller, callee


@pytest.fixture
async def closing() -> AsyncIterator[list[UserAgent]]:
    agents: list[UserAgent] = []
    yield agents
    for ua in agents:
        await ua.aclose()


async def test_dtmf_sent_by_one_agent_is_received_by_the_other(closing: list[UserAgent]) -> None:
    heard: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()

    async def answer(incoming: IncomingCall) -> None:
        call = await incoming.answer()
        digits = [await asyncio.wait_for(call.next_dtmf(), 5) for _ in range(3)]
        heard.set_result(digits)
        await call.ended.wait()

    caller, callee = await _pair(answer)
    closing += [caller, callee]
    out = await place_call(caller, to_user="+15550100000", from_user="+1555", ring_timeout_s=5)
    assert isinstance(out.call, SipCall) and out.call.rtp.event_pt == 101
    await out.call.send_dtmf("7#A")
    assert await asyncio.wait_for(heard, 5) == ["7", "#", "A"]
    await out.call.hangup()


async def test_caller_cancels_while_ringing(closing: list[UserAgent]) -> None:
    outcome: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def slow(incoming: IncomingCall) -> None:
        await incoming.cancelled.wait()  # never picks up in time
        try:
            await incoming.answer()
        except CallGone:
            outcome.set_result("gone")

    caller, callee = await _pair(slow)
    closing += [caller, callee]
    out = await place_call(caller, to_user="+15550100000", from_user="+1555", ring_timeout_s=0.5)
    assert (out.status, out.call, out.ringing) == (487, None, True)
    assert await asyncio.wait_for(outcome, 5) == "gone"
    assert not callee.calls and not callee.incoming
