"""A dial job's claim holds across a crash: the re-run of the same job claims its call again,
and a call whose job was never enqueued is found and dialled once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from callwright.db.models import Call
from callwright.domain.ids import new_id
from callwright.services.recovery import requeue_stale_dispatches
from tests.calls.conftest import Platform, call_body
from tests.calls.test_calls_api import setup, wait_status
from tests.conftest import Tenant


async def test_the_same_dispatch_claims_again_and_a_stale_one_does_not(
    tenant: Tenant, platform: Platform
) -> None:
    container = platform.app.state.container
    dialer = container.web_calls.dialer
    call_id = new_id()
    async with container.uow.begin() as session:
        session.add(
            Call(
                id=call_id,
                workspace_id=tenant.workspace_id,
                agent_id="a",
                agent_version_id="v",
                status="registered",
                sub_status="QUEUED",
                to_number="+14155550100",
                due_at=datetime.now(UTC) + timedelta(days=1),  # the dispatcher leaves it
                dispatched_at=datetime.now(UTC),
                dispatches=3,
            )
        )
    ws = tenant.workspace_id
    assert await dialer._claim(ws, call_id, 0, 3)
    # The step committed but the engine never recorded it (kill -9): the re-run claims again.
    assert await dialer._claim(ws, call_id, 0, 3)
    assert not await dialer._claim(ws, call_id, 0, 2)  # an older job of this call
    assert not await dialer._claim(ws, call_id, 1, 3)  # another attempt


async def test_a_call_handed_over_whose_job_was_lost_is_dialled_once(
    tenant: Tenant, platform: Platform
) -> None:
    """The claim committed, then the process died before enqueueing (or a pacer's claim step
    re-ran elsewhere): the dispatcher's sweep enqueues the job; a fresh hand-over is left to
    its own job."""
    agent_id, number_id, _ = await setup(tenant)
    later = {"call_time": {"scheduled_at": "2099-01-01T09:00:00+05:30"}}
    ids = []
    for to in ("+14155550121", "+14155550122"):
        r = await tenant.client.post(
            "/calling/outbound/individual",
            json=call_body(agent_id, to=to, from_number_id=number_id, call_config=later),
        )
        assert r.status_code == 200, r.text
        ids.append(r.json()["data"]["call_id"])
    container = platform.app.state.container
    now = datetime.now(UTC)
    async with container.uow.begin() as session:
        for call_id, handed_over in zip(ids, (now - timedelta(minutes=5), now), strict=True):
            await session.execute(
                update(Call)
                .where(Call.id == call_id)
                .values(due_at=handed_over, dispatched_at=handed_over, dispatches=1)
            )
    # The database is shared with other tests: their leftovers may be re-enqueued too.
    swept = await requeue_stale_dispatches(
        container.uow, container.jobs.enqueue, dispatched_before=now - timedelta(seconds=30)
    )
    assert swept >= 1
    lost, fresh = ids
    details = await wait_status(tenant, lost, "completed")
    assert details["call_sub_status"] != "RECONCILED_TO_ERROR_FROM_ONGOING"
    dialled = [d.call_id for d in platform.network.records()]
    assert dialled.count(lost) == 1 and fresh not in dialled
    r = await tenant.client.get("/calling/call-details", params={"id": fresh})
    assert r.json()["data"]["call_status"] == "registered"
    # Leave nothing handed over behind: the next test's start-up would enqueue it (shared DB).
    async with container.uow.begin() as session:
        await session.execute(update(Call).where(Call.id == fresh).values(status="cancelled"))
