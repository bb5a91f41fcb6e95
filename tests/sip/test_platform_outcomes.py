"""Through the whole platform (API → dispatcher → Dialer → sip provider → sipp): each far-end
outcome ends in Ringg's status and sub_status, and nothing is left running."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.calls.conftest import call_body
from tests.sip.conftest import Sipp, needs_sipp, sip_telephony
from tests.sip.platform_kit import sip_platform

pytestmark = [needs_sipp, pytest.mark.usefixtures("no_leaks"), pytest.mark.timeout(60)]

FROM = "+15550103333"


@pytest.mark.parametrize(
    ("scenario", "status", "sub_status"),
    [
        ("uas_busy.xml", "failed", "busy line"),
        ("uas_noanswer.xml", "failed", "no answer"),
        ("uas_reject.xml", "failed", "rejected"),
        ("uas_answer.xml", "completed", "USER_BECAME_IDLE"),  # the callee stays silent
        ("uas_hangup.xml", "completed", "ACCEPTED"),  # the callee hangs up
    ],
)
async def test_far_end_outcome_becomes_ringg_status(
    database_url: str,
    tmp_path: Path,
    sipp: Callable[..., Sipp],
    scenario: str,
    status: str,
    sub_status: str,
) -> None:
    far = sipp(scenario)
    await far.start()
    telephony = sip_telephony(far.port)
    async with sip_platform(database_url, tmp_path, telephony) as p:
        _, number_id = await p.sip_number(FROM, trunk_port=far.port)
        agent_id = await p.agent()
        r = await p.api.post(
            "/calling/outbound/individual",
            json=call_body(
                agent_id,
                from_number_id=number_id,
                call_config={
                    "call_retry_config": {"retry_count": 0},
                    "idle_timeout_warning": 1,
                    "idle_timeout_end": 2,
                },
            ),
        )
        assert r.status_code == 200, r.text
        call_id = r.json()["data"]["call_id"]
        data = await p.wait_call(call_id, "completed", "failed", "error")
        assert (data["call_status"], data["call_sub_status"]) == (status, sub_status), data
        if status == "completed":
            assert any("bot" in e for e in data["transcription_url"]), data
        assert await far.wait() == 0
        assert telephony.ua is not None and not telephony.ua.calls
