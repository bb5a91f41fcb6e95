"""Our webhook management API: secrets shown once, test sends, the delivery log, replays,
enable and delete, and tenant isolation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

from tests.webhook_delivery.chaos import GONE, OK, ChaosReceiver
from tests.webhook_delivery.conftest import (
    MakeApp,
    agent_with_hooks,
    endpoints,
    eventually,
    new_tenant,
)
from tests.webhook_delivery.helpers import emit


async def test_manage_endpoints_and_replay(make_app: MakeApp) -> None:
    answers = [GONE]
    receiver = await ChaosReceiver(script=lambda _r: answers[0]).up()
    try:
        async with make_app() as app:
            t = await new_tenant(app)
            agent_id = await agent_with_hooks(t, [receiver.url()], events=["call_completed"])
            (ep,) = await endpoints(t, agent_id)
            secret = ep["secret"]
            assert ep["event_types"] == ["call_completed"] and not ep["disabled"]
            r = await t.client.get(f"/webhooks/endpoints/{ep['id']}")
            assert r.status_code == 200 and r.json()["secret"] is None

            # A 410 disables the endpoint; replays are refused until it is enabled again.
            (event_id,) = await emit(app, t.workspace_id, agent_id)
            url = f"/webhooks/endpoints/{ep['id']}"

            async def disabled() -> bool:
                return bool((await t.client.get(url)).json()["disabled"])

            await eventually(disabled)
            log = (await t.client.get(f"{url}/deliveries")).json()["deliveries"]
            (first,) = log
            assert first["event_id"] == event_id and first["status"] == "failed"
            (attempt,) = first["attempts"]
            assert attempt["status_code"] == 410 and attempt["outcome"] == "disable"
            assert attempt["latency_ms"] > 0 and attempt["response_snippet"] == "ok"
            r = await t.client.post(f"/webhooks/deliveries/{first['id']}/replay")
            assert r.status_code == 409

            answers[0] = OK
            r = await t.client.post(f"{url}/enable")
            assert r.status_code == 200 and not r.json()["disabled"]
            # The test send goes out at once, signed, and is logged.
            r = await t.client.post(f"{url}/test")
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "delivered" and r.json()["event_type"] == "endpoint_test"
            _w, last, _b = receiver.requests[-1]
            assert (
                json.loads(Webhook(secret).verify(last.body, last.headers) and last.body)[
                    "event_type"
                ]
                == "endpoint_test"
            )

            r = await t.client.post(f"/webhooks/deliveries/{first['id']}/replay")
            assert r.status_code == 200 and r.json()["queued"] == 1
            replay_id = r.json()["delivery_ids"][0]

            async def replayed() -> bool:
                log = (await t.client.get(f"{url}/deliveries")).json()["deliveries"]
                return any(d["id"] == replay_id and d["status"] == "delivered" for d in log)

            await eventually(replayed)
            _w, again, _b = receiver.requests[-1]
            assert again.headers["webhook-id"] == event_id  # same message, same id
            Webhook(secret).verify(again.body, again.headers)

            # Replay since: only events never delivered to this endpoint, unless asked.
            since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
            r = await t.client.post(f"{url}/replay", params={"since": since})
            assert r.status_code == 200 and r.json()["queued"] == 0
            r = await t.client.post(f"{url}/replay", params={"since": since, "only_failed": False})
            assert r.json()["queued"] == 1
            r = await t.client.post(f"{url}/replay", params={"since": "yesterday"})
            assert r.status_code == 400

            # Delete unsubscribes the URL from the assistant.
            r = await t.client.delete(url)
            assert r.status_code == 204
            assert await endpoints(t, agent_id) == []
            agent = (await t.client.get(f"/agent/{agent_id}")).json()["agents"]
            active = agent["version_details"][agent["active_agent_version_id"]]
            assert active["event_subscriptions"] == []
            await t.client.aclose()
    finally:
        await receiver.down()


async def test_routes_are_workspace_scoped(make_app: MakeApp) -> None:
    receiver = await ChaosReceiver().up()
    try:
        async with make_app() as app:
            owner, other = await new_tenant(app, "owner"), await new_tenant(app, "other")
            agent_id = await agent_with_hooks(owner, [receiver.url()], events=["call_completed"])
            (ep,) = await endpoints(owner, agent_id)
            await emit(app, owner.workspace_id, agent_id)
            url = f"/webhooks/endpoints/{ep['id']}"

            async def logged() -> bool:
                r = await owner.client.get(f"{url}/deliveries")
                return bool(r.json()["deliveries"])

            await eventually(logged)
            delivery_id = (await owner.client.get(f"{url}/deliveries")).json()["deliveries"][0][
                "id"
            ]
            since = datetime.now(UTC).isoformat()
            foreign = [
                other.client.get("/webhooks/endpoints", params={"agent_id": agent_id}),
                other.client.get(url),
                other.client.post(f"{url}/enable"),
                other.client.post(f"{url}/test"),
                other.client.get(f"{url}/deliveries"),
                other.client.post(f"{url}/replay", params={"since": since}),
                other.client.post(f"/webhooks/deliveries/{delivery_id}/replay"),
                other.client.delete(url),
            ]
            for call in foreign:
                r = await call
                assert r.status_code == 404, (r.request.url, r.text)
            assert len(receiver.requests) == 1  # nothing was sent for the other tenant
            assert (await owner.client.get(url)).status_code == 200
            anonymous = (await owner.client.get(url, headers={"X-API-KEY": "nope"})).status_code
            assert anonymous == 401
            await owner.client.aclose()
            await other.client.aclose()
    finally:
        await receiver.down()
