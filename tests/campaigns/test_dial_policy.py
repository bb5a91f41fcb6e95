"""Property tests (Hypothesis) of when a dial may happen: calling windows in many time zones,
across DST changes and at +05:30/+05:45, and never after a terminate has committed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callwright.db.engine import create_engine, session_factory
from callwright.db.migrate import upgrade
from callwright.db.models import Call, Workspace
from callwright.db.models_campaigns import Campaign, DoNotCall
from callwright.db.unit_of_work import UnitOfWork
from callwright.domain.calling_window import is_allowed, next_allowed
from callwright.domain.campaign import CampaignStatus, DialCheck, Verdict, Window, may_dial
from callwright.domain.ids import new_id
from callwright.services.admission import Admission, admit

ZONES = [
    "UTC",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45 / +13:45 with DST
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "America/Santiago",
    "Europe/London",
    "Europe/Berlin",
    "Africa/Cairo",
    "Asia/Tehran",
    "Australia/Adelaide",
]
# Instants around 2024's and 2025's DST changes in both hemispheres, and plain days.
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
hhmm = st.builds(
    lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45])
)


@given(zone=st.sampled_from(ZONES), start=hhmm, end=hhmm, now=instants)
@settings(max_examples=400, deadline=None)
def test_next_allowed_is_the_first_instant_inside_the_window(
    zone: str, start: str, end: str, now: datetime
) -> None:
    at = next_allowed(now, start=start, end=end, tz_name=zone)
    assert at >= now
    assert is_allowed(at, start=start, end=end, tz_name=zone)
    if at > now:  # nothing earlier (to the minute) was allowed
        assert not is_allowed(at - timedelta(minutes=1), start=start, end=end, tz_name=zone)
    # Local wall-clock check, independent of the implementation's helpers.
    local = at.astimezone(ZoneInfo(zone)).time()
    s, e = (datetime.strptime(x, "%H:%M").time() for x in (start, end))
    if s < e:
        assert s <= local < e
    elif s > e:
        assert local >= s or local < e


@given(
    zone=st.sampled_from(ZONES),
    start=hhmm,
    end=hhmm,
    now=instants,
    status=st.sampled_from(list(CampaignStatus)),
    dnc=st.booleans(),
)
@settings(max_examples=400, deadline=None)
def test_may_dial_only_inside_the_window_of_a_live_campaign(
    zone: str, start: str, end: str, now: datetime, status: CampaignStatus, dnc: bool
) -> None:
    check = DialCheck(
        now=now,
        window=Window(start, end, zone),
        campaign_status=status,
        campaign_end=None,
        on_dnc_list=dnc,
    )
    verdict = may_dial(check)
    assert verdict == may_dial(check)  # deterministic
    if verdict is Verdict.DIAL:
        assert not dnc and status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)
        assert is_allowed(now, start=start, end=end, tz_name=zone)
    if dnc:
        assert verdict is Verdict.SKIP_DNC


@pytest.fixture
async def uow(tmp_path: Path) -> AsyncIterator[UnitOfWork]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'policy.db'}")
    await upgrade(engine)
    yield session_factory(engine)
    await engine.dispose()


@given(
    zone=st.sampled_from(ZONES),
    start=hhmm,
    end=hhmm,
    begin=instants,
    steps=st.lists(st.integers(1, 180), min_size=5, max_size=40),  # minutes between ticks
    terminate_at=st.integers(0, 39),
    dnc_at=st.integers(0, 39),
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
async def test_admission_obeys_window_terminate_and_dnc(
    uow: UnitOfWork,
    zone: str,
    start: str,
    end: str,
    begin: datetime,
    steps: list[int],
    terminate_at: int,
    dnc_at: int,
) -> None:
    """The real admission transaction over a real database, driven by a clock that jumps
    across days and DST changes; a terminate and a do-not-call entry commit mid-run."""
    ws, campaign_id = new_id(), new_id()
    calls = [new_id() for _ in range(6)]
    numbers = [f"+1415555{i:04d}" for i in range(6)]
    async with uow.begin() as session:
        session.add(Workspace(id=ws, name="p", credits=0.0, locked_credits=0.0))
        await session.flush()  # the campaign and calls refer to it
        session.add(
            Campaign(
                id=campaign_id, workspace_id=ws, list_id=campaign_id, agent_id="a", name="p",
                status=CampaignStatus.RUNNING, call_config={}, variables_map={},
                from_number_ids=[], concurrency_percentage=0, total_contacts=6,
                required_credits=0.0, pacer_generation=0,
            )
        )  # fmt: skip
        for call_id, number in zip(calls, numbers, strict=True):
            session.add(
                Call(
                    id=call_id, workspace_id=ws, agent_id="a", agent_version_id="v",
                    bulk_list_id=campaign_id, status="ongoing", sub_status="ACCEPTED",
                    to_number=number, call_config={"call_time": {
                        "call_start_time": start, "call_end_time": end, "timezone": zone}},
                )
            )  # fmt: skip
    now, terminated, blocked = begin, False, False
    dialled: set[str] = set()
    for i, minutes in enumerate(steps):
        now += timedelta(minutes=minutes)
        if i == terminate_at:
            async with uow.begin() as session:
                row = await session.get(Campaign, campaign_id)
                assert row is not None
                row.status = CampaignStatus.CANCELLED
            terminated = True
        if i == dnc_at:
            async with uow.begin() as session:
                session.add(DoNotCall(workspace_id=ws, number=numbers[0], reason="p"))
            blocked = True
        for call_id in calls:
            if call_id in dialled:
                continue
            async with uow.begin() as session:
                call = await session.get(Call, call_id)
                assert call is not None
                decision = await admit(session, call, attempt=0, now=now)
            if decision.admission is Admission.DIAL:
                dialled.add(call_id)
                assert not terminated, "dialled after the terminate committed"
                assert is_allowed(now, start=start, end=end, tz_name=zone)
                assert not (blocked and call.to_number == numbers[0])
            elif decision.admission is Admission.WAIT:
                assert decision.until is not None and decision.until > now
                assert not is_allowed(now, start=start, end=end, tz_name=zone)
