"""The kb_ingest job on its own: URL failures with reasons, idempotent re-runs, tenancy."""

from __future__ import annotations

import json

from fastapi import FastAPI

from callwright.db.models_kb import KnowledgeBase
from callwright.db.repositories import knowledge as kb_repo
from callwright.jobs import JobRegistry, MemoryJobRunner, QueueSpec
from callwright.knowledge.retriever import EmbedderSource, Retriever
from callwright.net import AddressPolicy, SafeHTTPClient, StaticResolver
from callwright.services.knowledge import KB_INGEST_JOB, KB_QUEUE, KnowledgeBases
from callwright.services.knowledge_ingest import KnowledgeIngester
from tests.conftest import Tenant
from tests.knowledge.conftest import create_kb, wait_settled
from tests.knowledge.fixtures import LOYALTY_FACT, LOYALTY_PAGE, PETS_FAQ, web_page


async def test_url_failures_say_why_and_good_sources_still_index(
    app: FastAPI, tenant: Tenant
) -> None:
    """A name that resolves to a LAN address is refused before any connection; redirects
    and error statuses fail with the reason; the page that works is indexed."""
    uow = app.state.container.uow
    policy = AddressPolicy(allow_loopback=True)  # the embedded default: LAN still refused
    resolver = StaticResolver({"intranet.example": ["192.168.1.20"]})
    embedders = EmbedderSource()
    registry = JobRegistry()
    registry.add_queue(QueueSpec(name=KB_QUEUE, worker_concurrency=1))
    ingester = KnowledgeIngester(
        uow=uow, http=SafeHTTPClient(policy=policy, resolver=resolver), embedders=embedders
    )
    registry.add_handler(KB_INGEST_JOB, ingester.run)
    async with MemoryJobRunner(registry=registry) as jobs:
        service = KnowledgeBases(
            uow=uow,
            enqueue=jobs.enqueue,
            retriever=Retriever(uow=uow, embedders=embedders),
            url_policy=policy,
        )
        async with (
            web_page(LOYALTY_PAGE) as good,
            web_page(b"", status="302 Found") as moved,
            web_page(b"gone", status="404 Not Found") as missing,
        ):
            created = await service.create(
                tenant.workspace_id,
                name="Web",
                files=[],
                urls_json=json.dumps(["http://intranet.example/wiki", good, moved, missing]),
                faqs_json=None,
            )
            await jobs.wait_idle()
        view = await service.get(tenant.workspace_id, created["kb_id"])
        assert view["status"] == "failed"
        errors = {u["url"]: u["error"] for u in view["urls"]}
        assert errors[good] is None
        assert "URL refused" in errors["http://intranet.example/wiki"]
        assert "private address" in errors["http://intranet.example/wiki"]
        assert "redirected (HTTP 302) to http://example.com/moved" in errors[moved]
        assert errors[missing] == "the server answered HTTP 404"
        passages = await service.retriever.search(
            tenant.workspace_id, [created["kb_id"]], "what is the loyalty program called"
        )
        assert LOYALTY_FACT in passages[0].text and passages[0].source == good

        # Re-running ingestion (a second job, as after a crash) changes nothing.
        before = await service.get(tenant.workspace_id, created["kb_id"])
        await ingester._ingest(tenant.workspace_id, before["urls"][1]["file_id"])
        await service._schedule(await _row(service, tenant, created["kb_id"]))
        await jobs.wait_idle()
        after = await service.get(tenant.workspace_id, created["kb_id"])
        assert [u["chunks"] for u in after["urls"]] == [u["chunks"] for u in before["urls"]]


async def _row(service: KnowledgeBases, t: Tenant, kb_id: str) -> KnowledgeBase:
    async with service._uow() as session:
        row = await kb_repo.get(session, t.workspace_id, kb_id)
    assert row is not None
    return row


async def test_retrieval_never_crosses_workspaces(
    app: FastAPI, tenant: Tenant, tenant_factory: object
) -> None:
    other = await tenant_factory("Other")  # type: ignore[operator]
    mine = (await create_kb(tenant, "Mine", faqs=[PETS_FAQ])).json()["kb_id"]
    await wait_settled(app, tenant, mine)
    retriever = app.state.container.knowledge.retriever
    assert await retriever.search(tenant.workspace_id, [mine], "pets in the store")
    assert await retriever.search(other.workspace_id, [mine], "pets in the store") == []
