"""Inbound calls: baresip calls a callwright number over SIP and the number's inbound
assistant answers (a live Call row, direction inbound, with a transcript); calls to numbers
without an inbound assistant are refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from callwright.db.models import Call
from callwright.sip import UaConfig, UserAgent, place_call
from tests.sip.baresip import Baresip, write_wav
from tests.sip.conftest import needs_baresip, rtp_range, sip_telephony
from tests.sip.platform_kit import SipPlatform, sip_platform

pytestmark = [pytest.mark.usefixtures("no_leaks"), pytest.mark.timeout(60)]

NUMBER = "+15550107777"
CALLER = "+14155550199"


async def _inbound_setup(p: SipPlatform, *, attach: bool = True) -> str:
    account_id, number_id = await p.sip_number(NUMBER, trunk_port=5060, inbound=True)
    agent_id = await p.agent(
        agent_type="inbound", intro_message="Thanks for calling Acme, how can I help?"
    )
    if attach:
        r = await p.api.patch(
            "/agent/v1",
            json={
                "operation": "attach_inbound_number",
                "agent_id": agent_id,
                "number_id": number_id,
            },
        )
        assert r.status_code == 200, r.text
    await p.telephony.listen(p.inbound().handler(account_id=account_id))
    return agent_id


async def _inbound_calls(p: SipPlatform) -> list[Call]:
    async with p.container.uow() as session:
        return list(
            (
                await session.scalars(
                    select(Call).where(
                        Call.direction == "inbound", Call.workspace_id == p.workspace_id
                    )
                )
            ).all()
        )


@needs_baresip
async def test_baresip_call_reaches_the_inbound_assistant(
    database_url: str, tmp_path: Path
) -> None:
    t = np.arange(int(8000 * 1.2)) / 8000
    tone = (np.sin(2 * np.pi * 500 * t) * 9000).astype("<i2").tobytes()
    second = bytes(2 * 8000)
    write_wav(tmp_path / "caller.wav", second * 3 + tone + second * 5)
    telephony = sip_telephony(5060)
    async with sip_platform(database_url, tmp_path, telephony) as p:
        agent_id = await _inbound_setup(p)
        assert telephony.ua is not None
        phone = Baresip(workdir=tmp_path, source_wav=tmp_path / "caller.wav", user=CALLER)
        try:
            await phone.start(dial=f"sip:{NUMBER}@127.0.0.1:{telephony.ua.port}")
            async with asyncio.timeout(30):
                while not (calls := await _inbound_calls(p)) or calls[0].status != "completed":  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
        finally:
            console = await phone.stop()
        call = calls[0]
        assert (call.agent_id, call.to_number, call.from_number) == (agent_id, NUMBER, CALLER), (
            console
        )
        assert call.dispatched_at is not None and call.answered_at is not None
        bots = [e["bot"] for e in call.transcript if "bot" in e]
        users = [e["user"] for e in call.transcript if "user" in e]
        assert bots and bots[0] == "Thanks for calling Acme, how can I help?", call.transcript
        assert users == ["Yes, I would like a demo."], call.transcript  # it heard the caller
        assert call.locked_credits == 0.0 and call.credits_processed
        r = await p.api.get("/calling/call-details", params={"id": call.id})
        assert r.json()["data"]["call_status"] == "completed"
        assert not telephony.ua.calls


@pytest.mark.parametrize("attach", [True, False])
async def test_calls_to_numbers_without_an_inbound_assistant_are_refused(
    database_url: str, tmp_path: Path, attach: bool
) -> None:
    telephony = sip_telephony(5060)
    async with sip_platform(database_url, tmp_path, telephony) as p:
        await _inbound_setup(p, attach=attach)
        assert telephony.ua is not None
        lo, hi = rtp_range()
        caller = UserAgent(
            config=UaConfig(
                proxy=("127.0.0.1", telephony.ua.port), rtp_port_min=lo, rtp_port_max=hi
            )
        )
        await caller.start()
        try:
            unknown = await place_call(
                caller, to_user="+15550100404", from_user=CALLER, ring_timeout_s=15
            )
            assert (unknown.status, unknown.call) == (480, None)
            known = await place_call(caller, to_user=NUMBER, from_user=CALLER, ring_timeout_s=15)
            if attach:
                assert known.call is not None and known.status == 200
                await known.call.hangup()
            else:
                assert (known.status, known.call) == (480, None)
        finally:
            await caller.aclose()
        async with asyncio.timeout(15):  # the answered call settles
            while (calls := await _inbound_calls(p)) and calls[0].status != "completed":  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        assert len(calls) == (1 if attach else 0), [(c.to_number, c.status) for c in calls]
