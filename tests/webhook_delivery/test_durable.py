"""The same delivery job under the real durable engine (DBOS on SQLite or PostgreSQL)."""

from __future__ import annotations

from callwright.webhooks.retry import RetrySchedule
from tests.webhook_delivery.chaos import E500, OK, ChaosReceiver
from tests.webhook_delivery.conftest import (
    MakeApp,
    agent_with_hooks,
    endpoints,
    eventually,
    new_tenant,
)
from tests.webhook_delivery.helpers import check_signature, emit
from tests.webhook_delivery.test_delivery import scripted


async def test_durable_delivery_with_a_retry(make_app: MakeApp) -> None:
    receiver = await ChaosReceiver(script=scripted(E500, OK)).up()
    try:
        quick = RetrySchedule(delays_s=(1.0,), jitter_fraction=0.0)
        async with make_app(memory_jobs=False, schedule=quick) as app:
            t = await new_tenant(app)
            agent_id = await agent_with_hooks(t, [receiver.url()], events=["call_completed"])
            (ep,) = await endpoints(t, agent_id)
            (event_id,) = await emit(app, t.workspace_id, agent_id)

            async def delivered() -> bool:
                return len(receiver.delivered()) == 1

            await eventually(delivered, timeout_s=30)
            assert len(receiver.requests) == 2
            assert {check_signature(r, ep["secret"]) for _w, r, _b in receiver.requests} == {
                event_id
            }
            await t.client.aclose()
    finally:
        await receiver.down()
