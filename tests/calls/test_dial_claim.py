"""A dial job's claim holds across a crash: the re-run of the same job claims its call again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callwright.db.models import Call
from callwright.domain.ids import new_id
from tests.calls.conftest import Platform
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
