"""Delivery under chaos: retries on the schedule, 410 and 5-day disabling, at-least-once to
every live endpoint, stable webhook-ids, valid signatures, isolation of slow endpoints."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from callwright.bootstrap import Container
from callwright.db.models_webhooks import WebhookEndpoint, WebhookEvent
from callwright.net.ssrf import AddressPolicy
from callwright.webhooks.retry import RetrySchedule
from callwright.webhooks.testing import ReceivedRequest, RecordingReceiver, ScriptedResponse
from tests.webhook_delivery.chaos import (
    E500,
    GONE,
    OK,
    RESET,
    Behaviour,
    ChaosReceiver,
    CompressedClock,
    JumpClock,
    stall,
    throttle,
)
from tests.webhook_delivery.conftest import (
    MakeApp,
    agent_with_hooks,
    endpoints,
    eventually,
    new_tenant,
)
from tests.webhook_delivery.helpers import check_signature, emit


def scripted(*plan: Behaviour) -> Any:
    """Answer the n-th request with plan[n] (the last one repeats)."""
    count = [0]

    def respond(_req: ReceivedRequest) -> Behaviour:
        b = plan[min(count[0], len(plan) - 1)]
        count[0] += 1
        return b

    return respond


async def log(t: Any, endpoint_id: str) -> list[dict[str, Any]]:
    r = await t.client.get(f"/webhooks/endpoints/{endpoint_id}/deliveries", params={"limit": 100})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["deliveries"]
    return found


def at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_retry_times_follow_the_schedule(make_app: MakeApp) -> None:
    """Default schedule, virtual time: 500, reset, 429 (Retry-After 200 s), timeout, then
    away for 10 minutes (refused), then 200."""
    clock = JumpClock()
    receiver = ChaosReceiver(script=scripted(E500, RESET, throttle(200), stall(2.0), OK))
    await receiver.up()
    away: dict[str, datetime] = {}

    async def outage() -> None:  # after the 4th request, the receiver is gone for 10 minutes
        while True:
            if "seen" not in away and len(receiver.requests) >= 4:
                away["seen"] = clock.now()
            if "seen" in away and "from" not in away and clock.now() > away["seen"]:
                away["from"] = away["seen"]  # attempt 4 has timed out and the job sleeps
                await receiver.down()
            if "from" in away and "back" not in away:
                if clock.now() >= away["from"] + timedelta(minutes=10):
                    away["back"] = clock.now()
                    await receiver.up()
            await asyncio.sleep(0.002)

    watcher = asyncio.create_task(outage())
    try:
        async with make_app(clock=_Lagged(clock), timeout_s=0.5) as app:
            t = await new_tenant(app)
            agent_id = await agent_with_hooks(t, [receiver.url()], events=["call_completed"])
            (ep,) = await endpoints(t, agent_id)
            (event_id,) = await emit(app, t.workspace_id, agent_id)

            async def delivered() -> bool:
                return bool((await log(t, ep["id"]))[0]["status"] == "delivered")

            await eventually(delivered, timeout_s=30)
            (d,) = await log(t, ep["id"])
            attempts = d["attempts"]
            assert [a["outcome"] for a in attempts] == ["retry"] * 5 + ["done"]
            assert [a["status_code"] for a in attempts] == [500, None, 429, None, None, 200]
            cats = [a["error_category"] for a in attempts]
            assert cats[1] in ("connect", "protocol") and cats[3] == "timeout"
            assert cats[4] == "connect"  # nobody listening
            schedule = RetrySchedule()
            for i, a in enumerate(attempts[:-1]):
                gap = (at(a["next_attempt_at"]) - at(a["started_at"])).total_seconds()
                if i == 2:
                    assert gap == 200  # Retry-After beats the 2-minute step
                else:
                    base = schedule.delays_s[i]
                    assert 0.9 * base <= gap <= 1.1 * base, (i, gap)
                assert at(attempts[i + 1]["started_at"]) == at(a["next_attempt_at"])
            assert at(attempts[4]["started_at"]) < away["back"] <= at(attempts[5]["started_at"])
            ids = {check_signature(r, ep["secret"]) for _t, r, _b in receiver.requests}
            assert ids == {event_id}  # every retry carries the same webhook-id
            await t.client.aclose()
    finally:
        watcher.cancel()
        await receiver.down()


class _Lagged:
    """A JumpClock whose jobs wake 30 ms (real) after a jump, so the test's outage watcher
    sees virtual time move before the next attempt dials."""

    def __init__(self, inner: JumpClock) -> None:
        self.inner = inner

    def now(self) -> datetime:
        return self.inner.now()

    def wall(self, at: datetime) -> datetime:
        return self.inner.wall(at) + timedelta(milliseconds=30)


async def test_gone_disables_and_five_failing_days_disable(make_app: MakeApp) -> None:
    clock = JumpClock()
    gone = await ChaosReceiver(script=scripted(GONE)).up()
    broken = await ChaosReceiver(script=scripted(E500)).up()
    try:
        async with make_app(clock=clock) as app:
            c: Container = app.state.container
            t = await new_tenant(app)
            agent_id = await agent_with_hooks(
                t, [gone.url(), broken.url()], events=["call_completed"]
            )
            eps = {e["url"]: e for e in await endpoints(t, agent_id)}
            await emit(app, t.workspace_id, agent_id)

            async def settled() -> bool:
                logs = [await log(t, e["id"]) for e in eps.values()]
                return all(d["status"] in ("failed", "delivered") for (d,) in logs)

            await eventually(settled)
            r = await t.client.get(f"/webhooks/endpoints/{eps[gone.url()]['id']}")
            assert r.json()["disabled"] and "410" in r.json()["disabled_reason"]
            assert len(gone.requests) == 1  # 410: no retries
            (d,) = await log(t, eps[broken.url()]["id"])
            assert d["attempt_count"] == RetrySchedule().max_attempts  # ≈ 3 days of retries
            r = await t.client.get(f"/webhooks/endpoints/{eps[broken.url()]['id']}")
            assert not r.json()["disabled"] and r.json()["failing_since"] is not None

            clock.advance(timedelta(days=2, hours=12))  # 5 days after the first failure
            await emit(app, t.workspace_id, agent_id)

            async def disabled() -> bool:
                r = await t.client.get(f"/webhooks/endpoints/{eps[broken.url()]['id']}")
                return bool(r.json()["disabled"])

            await eventually(disabled)
            r = await t.client.get(f"/webhooks/endpoints/{eps[broken.url()]['id']}")
            assert "5 days" in r.json()["disabled_reason"]
            async with c.uow() as session:
                notices = (
                    await session.scalars(
                        select(WebhookEvent).where(
                            WebhookEvent.agent_id == agent_id,
                            WebhookEvent.event_type == "endpoint_disabled",
                        )
                    )
                ).all()
            reasons = sorted(n.payload["callback_url"] for n in notices)
            assert reasons == sorted([gone.url(), broken.url()])
            before = len(broken.requests)
            await emit(app, t.workspace_id, agent_id)  # disabled endpoints get nothing
            await asyncio.sleep(0.3)
            assert len(broken.requests) == before and len(gone.requests) == 1
            await t.client.aclose()
    finally:
        await gone.down()
        await broken.down()


CHAOS = (E500, RESET, stall(0.5), throttle(30), GONE)


def chaos_script(seed: int) -> Any:
    """Each message fails 0-4 times (500, reset, stall past the timeout then 200, 429), then
    succeeds; decided per webhook-id so the outcome does not depend on arrival order."""
    seen: dict[str, int] = {}

    def respond(req: ReceivedRequest) -> Behaviour:
        msg = req.headers["webhook-id"]
        rng = random.Random(f"{seed}:{msg}")
        plan = [rng.choice(CHAOS[:4]) for _ in range(rng.randint(0, 4))]
        n = seen.get(msg, 0)
        seen[msg] = n + 1
        return plan[n] if n < len(plan) else OK

    return respond


async def test_chaos_every_event_reaches_every_live_endpoint(make_app: MakeApp) -> None:
    factor = 600.0  # 10 s → 17 ms, 10 minutes → 1 s
    clock = CompressedClock(factor)
    schedule = RetrySchedule(delays_s=(10, 60, 120, 300, 600, 600, 600, 600))
    chaotic = [await ChaosReceiver(script=chaos_script(seed)).up() for seed in (1, 2, 3)]
    away = await ChaosReceiver().up()
    dead = await ChaosReceiver(script=scripted(GONE)).up()
    await away.down()  # gone for the first 10 (virtual) minutes
    receivers = [*chaotic, away, dead]
    try:
        async with make_app(clock=clock, schedule=schedule, timeout_s=0.3) as app:
            t = await new_tenant(app)
            agent_id = await agent_with_hooks(
                t, [r.url() for r in receivers], events=["call_completed"]
            )
            eps = {e["url"]: e for e in await endpoints(t, agent_id)}
            ids = set(await emit(app, t.workspace_id, agent_id, n=15))
            await asyncio.sleep(600 / factor)
            await away.up()
            live = [*chaotic, away]

            async def all_delivered() -> bool:
                for r in live:
                    got = {q.headers["webhook-id"] for _t, q, b in r.requests if b.status < 300}
                    if got != ids:
                        return False
                return True

            await eventually(all_delivered, timeout_s=60)
            duplicates = 0
            for r in live:
                secret = eps[r.url()]["secret"]
                bodies: dict[str, bytes] = {}
                for _t, q, _b in r.requests:
                    msg = check_signature(q, secret)
                    assert bodies.setdefault(msg, q.body) == q.body  # a retry is the same message
                duplicates += len(r.requests) - len(bodies)
            assert duplicates > 0  # the chaos did force retries
            assert any(b.kind == "stall" for r in chaotic for _t, _q, b in r.requests)
            # 410 disables: only the deliveries already in flight (8 per endpoint) got there.
            assert 1 <= len(dead.requests) <= 8
            dead_log = await log(t, eps[dead.url()]["id"])
            assert {d["status"] for d in dead_log} <= {"failed", "skipped"}
            # Retry gaps follow the schedule (jitter ±10 %, Retry-After 30 s), give or take
            # the attempt's own duration and 50 ms of real scheduling slack.
            for r in chaotic:
                for d in await log(t, eps[r.url()]["id"]):
                    for i, a in enumerate(d["attempts"][:-1]):
                        gap = (at(a["next_attempt_at"]) - at(a["started_at"])).total_seconds()
                        base = schedule.delays_s[i]
                        lo = 0.9 * base if a["status_code"] != 429 else max(0.9 * base, 30)
                        hi = max(1.1 * base, 30) + (a["latency_ms"] / 1000 + 0.05) * factor
                        assert lo - 1 <= gap <= hi, (i, gap, a)
            await t.client.aclose()
    finally:
        for r in receivers:
            await r.down()


async def test_a_slow_endpoint_does_not_delay_the_others(make_app: MakeApp) -> None:
    slow = await ChaosReceiver(script=scripted(stall(1.0))).up()  # answers 200, slowly
    fast = await ChaosReceiver().up()
    try:
        async with make_app(timeout_s=3.0) as app:
            t = await new_tenant(app)
            agent_id = await agent_with_hooks(
                t, [slow.url(), fast.url()], events=["call_completed"]
            )
            await endpoints(t, agent_id)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            await emit(app, t.workspace_id, agent_id, n=32)

            async def both() -> bool:
                return len(fast.requests) == 32 and len(slow.requests) == 32

            await eventually(both, timeout_s=30)
            fast_done = max(when for when, _q, _b in fast.requests) - t0
            slow_done = max(when for when, _q, _b in slow.requests) - t0
            # 32 deliveries, 8 at a time, 1 s each: the slow endpoint's fourth round arrives
            # after 3 s. Had the fast endpoint's deliveries shared its slots, they would
            # interleave with those rounds; they are all in a round earlier, however slowly a
            # loaded machine writes the delivery records.
            assert slow_done >= 3.0
            assert fast_done < slow_done - 1.0, (fast_done, slow_done)
            await t.client.aclose()
    finally:
        await slow.down()
        await fast.down()


async def test_production_policy_never_connects_to_loopback(make_app: MakeApp) -> None:
    receiver = await ChaosReceiver().up()
    try:
        async with make_app(policy=AddressPolicy.production()) as app:
            c: Container = app.state.container
            t = await new_tenant(app)
            urls = [receiver.url(), f"http://localhost:{receiver.port}/x",
                    f"http://[::ffff:127.0.0.1]:{receiver.port}/x",
                    f"http://2130706433:{receiver.port}/x"]  # fmt: skip
            agent_id = await agent_with_hooks(t, urls, method_type="PUT")
            eps = await endpoints(t, agent_id)
            await emit(app, t.workspace_id, agent_id)

            async def failed() -> bool:
                logs = [await log(t, e["id"]) for e in eps]
                return all(d and d[0]["status"] == "failed" for d in logs)

            await eventually(failed)
            for e in eps:
                (d,) = await log(t, e["id"])
                assert d["attempt_count"] == 1
                assert d["attempts"][0]["error_category"].startswith("unsafe_url:")
            assert receiver.connections == 0
            async with c.uow() as session:
                rows = (await session.scalars(select(WebhookEndpoint))).all()
            assert all(not r.disabled for r in rows if r.agent_id == agent_id)
            await t.client.aclose()
    finally:
        await receiver.down()


async def test_method_and_custom_headers(make_app: MakeApp) -> None:
    receiver = await ChaosReceiver().up()
    try:
        async with make_app() as app:
            t = await new_tenant(app)
            agent_id = await agent_with_hooks(
                t, [receiver.url()], method_type="PATCH", headers={"X-Token": "abc"}
            )
            (ep,) = await endpoints(t, agent_id)
            await emit(app, t.workspace_id, agent_id)

            async def one() -> bool:
                return len(receiver.requests) == 1

            await eventually(one)
            (_w, req, _b) = receiver.requests[0]
            assert req.method == "PATCH" and req.headers["x-token"] == "abc"
            assert req.headers["content-type"] == "application/json"
            assert json.loads(req.body)["event_type"] == "call_completed"
            check_signature(req, ep["secret"])
            await t.client.aclose()
    finally:
        await receiver.down()


async def test_auth_fetch_config_token_is_fetched_cached_and_sent(make_app: MakeApp) -> None:
    tokens = iter([ScriptedResponse(status=503), ScriptedResponse(body=b'{"data":{"token":"T1"}}')])
    token_server = await RecordingReceiver(respond=lambda _r: next(tokens)).start()
    receiver = await ChaosReceiver().up()
    quick = RetrySchedule(delays_s=(0.2, 0.2), jitter_fraction=0.0)
    try:
        async with make_app(schedule=quick) as app:
            t = await new_tenant(app)
            fetch = {
                "enabled": True,
                "url": token_server.url("/token"),
                "method": "POST",
                "body": {"client_id": "abc"},
                "query_params": {"scope": "hooks"},
                "token_path": "data.token",
                "ttl_seconds": 3600,
                "header_name": "Authorization",
                "header_value_template": "Bearer {{token}}",
            }
            agent_id = await agent_with_hooks(
                t, [receiver.url()], events=["call_completed"], auth_fetch_config=fetch
            )
            (ep,) = await endpoints(t, agent_id)
            await emit(app, t.workspace_id, agent_id, n=2)

            async def two() -> bool:
                return len(receiver.delivered()) == 2

            await eventually(two)
            assert {q.headers["authorization"] for q in receiver.delivered()} == {"Bearer T1"}
            assert len(token_server.requests) == 2  # one failure, then one cached token
            fetched = token_server.requests[-1]
            assert fetched.target == "/token?scope=hooks"
            assert json.loads(fetched.body) == {"client_id": "abc"}
            categories = [
                a["error_category"] for d in await log(t, ep["id"]) for a in d["attempts"]
            ]
            assert categories.count("auth_fetch") == 1
            await t.client.aclose()
    finally:
        await receiver.down()
        await token_server.close()
