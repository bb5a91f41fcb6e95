"""Per-key rate limit: 429 with Retry-After, and other keys unaffected."""

from __future__ import annotations

from dataclasses import replace

import httpx
from fastapi import FastAPI

from callwright.api.ratelimit import RateLimiter
from tests.conftest import Tenant


def test_bucket_refills_at_the_configured_rate() -> None:
    limiter = RateLimiter(rate_per_s=2, burst=2)
    assert limiter.take("k", now=0.0) == 0
    assert limiter.take("k", now=0.0) == 0
    assert limiter.take("k", now=0.0) == 1  # empty: one token in 0.5 s, reported as 1 s
    assert limiter.take("other", now=0.0) == 0
    assert limiter.take("k", now=0.6) == 0


async def test_api_answers_429_with_retry_after(app: FastAPI, tenant_factory: object) -> None:
    a: Tenant = await tenant_factory()  # type: ignore[operator]
    b: Tenant = await tenant_factory()  # type: ignore[operator]
    app.state.container = replace(
        app.state.container, rate_limiter=RateLimiter(rate_per_s=0.5, burst=3)
    )
    statuses = [(await a.client.get("/workspace")).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    r = await a.client.get("/workspace")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "rate_limited"
    assert (await b.client.get("/workspace")).status_code == 200
    # Bad keys are refused before they can spend anyone's tokens.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test/ca/api/v0"
    ) as anon:
        assert (await anon.get("/workspace", headers={"X-API-KEY": "nope"})).status_code == 401
