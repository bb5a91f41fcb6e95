"""/external/kb end to end: create, process asynchronously, read, edit, delete, attach."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI

from callwright.testing.documents import pdf_document
from tests.api.bodies import public_agent
from tests.conftest import Tenant
from tests.knowledge.conftest import create_kb, pdf_upload, wait_settled
from tests.knowledge.fixtures import (
    HARBOR_FACT,
    LOYALTY_FACT,
    LOYALTY_PAGE,
    PETS_FAQ,
    SHIPPING_FACT,
    WARRANTY_FACT,
    handbook_pdf,
    shipping_md,
    warranty_docx,
    web_page,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


async def search(app: FastAPI, t: Tenant, kb_id: str, query: str) -> list[str]:
    passages = await app.state.container.knowledge.retriever.search(
        t.workspace_id, [kb_id], query, k=3
    )
    return [p.text for p in passages]


async def test_create_process_read_edit_delete(app: FastAPI, tenant: Tenant) -> None:
    async with web_page(LOYALTY_PAGE) as url:
        r = await create_kb(
            tenant,
            "Store docs",
            files=[
                pdf_upload("handbook.pdf", handbook_pdf()),
                ("files", ("warranty.docx", warranty_docx(), DOCX)),
                ("files", ("shipping.md", shipping_md(), "text/markdown")),
            ],
            urls=[url],
            faqs=[PETS_FAQ],
        )
        assert r.status_code == 200, r.text
        created = r.json()
        assert created["message"] == "Knowledge Base creation initiated"
        assert created["processing_status"] == "pending" and created["files_queued"] == 5
        kb_id = created["kb_id"]
        await wait_settled(app, tenant, kb_id)

    kb = (await tenant.client.get(f"/external/kb/{kb_id}")).json()
    assert kb["status"] == "completed", kb["failure_reason"]
    assert kb["kb_name"] == "Store docs" and kb["type"] == "non_deterministic"
    assert [f["filename"] for f in kb["files"]] == ["handbook.pdf", "warranty.docx", "shipping.md"]
    assert [f["file_type"] for f in kb["files"]] == ["application/pdf", DOCX, "text/markdown"]
    assert all(item["chunks"] > 0 for key in ("files", "urls", "faqs") for item in kb[key])
    assert kb["urls"][0]["url"] == url and kb["urls"][0]["file_type"] == "text/html"
    assert kb["faqs"][0]["content"] == PETS_FAQ

    assert (
        HARBOR_FACT
        in (await search(app, tenant, kb_id, "When does Harbor Street close on Thursday?"))[0]
    )
    assert any(
        WARRANTY_FACT in p
        for p in await search(app, tenant, kb_id, "how long do I have for a warranty claim")
    )
    assert any(
        SHIPPING_FACT in p
        for p in await search(app, tenant, kb_id, "express shipping price Alaska")
    )
    assert any(
        LOYALTY_FACT in p for p in await search(app, tenant, kb_id, "name of the loyalty program")
    )
    assert any(
        "service animals" in p
        for p in await search(app, tenant, kb_id, "can I bring my dog inside")
    )

    listing = (await tenant.client.get("/external/kb/all")).json()
    assert [(row["kb_id"], row["type"]) for row in listing] == [(kb_id, "non_deterministic")]

    docx_id = kb["files"][1]["file_id"]
    r = await tenant.client.patch(
        "/external/kb",
        data={
            "kb_id": kb_id,
            "files_to_remove": json.dumps([docx_id]),
            "new_faqs": json.dumps([{"question": "Gift wrap?", "answer": "Gift wrap is free."}]),
        },
        files=[("new_files[]", ("hours.txt", b"Sunday hours are noon to 5 pm.", "text/plain"))],
    )
    assert r.status_code == 200, r.text
    edited = r.json()
    assert edited["message"] == "Knowledge Base edit initiated"
    assert edited["items_removed"] == 1 and edited["new_files_queued"] == 1
    assert edited["new_files"][0]["filename"] == "hours.txt"
    await wait_settled(app, tenant, kb_id)
    kb = (await tenant.client.get(f"/external/kb/{kb_id}")).json()
    assert kb["status"] == "completed"
    assert [f["filename"] for f in kb["files"]] == ["handbook.pdf", "shipping.md", "hours.txt"]
    assert len(kb["faqs"]) == 2
    assert not any(
        WARRANTY_FACT in p for p in await search(app, tenant, kb_id, "warranty claim months")
    )
    assert any("noon to 5 pm" in p for p in await search(app, tenant, kb_id, "Sunday hours"))

    r = await tenant.client.patch(
        "/external/kb", data={"kb_id": kb_id, "files_to_remove": json.dumps(["nope"])}
    )
    assert r.status_code == 400 and "nope" in r.json()["detail"]

    r = await tenant.client.delete(f"/external/kb/{kb_id}")
    assert r.json() == {"message": "Knowledge Base deleted successfully", "kb_id": kb_id}
    assert (await tenant.client.get(f"/external/kb/{kb_id}")).status_code == 404
    assert (await tenant.client.delete(f"/external/kb/{kb_id}")).status_code == 404
    assert await search(app, tenant, kb_id, "Harbor Street") == []


async def test_bad_uploads_are_refused_with_reasons(
    app: FastAPI, tenant: Tenant, tenant_factory: object
) -> None:
    mb = 1024 * 1024
    cases = [
        ([pdf_upload("big.pdf", b"%PDF-1.4\n" + b"x" * (2 * mb))], {}, "File too large: big.pdf"),
        ([pdf_upload(f"f{n}.pdf", handbook_pdf()) for n in range(11)], {}, "At most 10 files"),
        (
            [pdf_upload(f"f{n}.pdf", b"%PDF-1.4\n" + b"x" * (mb * 19 // 10)) for n in range(3)],
            {},
            "Files too large in total",
        ),
        ([("files", ("tool.exe", b"MZ", "application/octet-stream"))], {}, "Unsupported file type"),
        ([pdf_upload("fake.pdf", b"hello, not a pdf")], {}, "does not match its type"),
        ([], {"urls": "not json"}, "'urls' must be a JSON array"),
        ([], {"urls": json.dumps(["http://192.168.1.20/wiki"])}, "private address"),
        ([], {"urls": json.dumps(["http://169.254.169.254/latest"])}, "metadata address"),
        ([], {"urls": json.dumps(["ftp://example.com/x"])}, "Invalid URL"),
        ([], {"urls": json.dumps([f"https://example.com/{n}" for n in range(21)])}, "20 URLs"),
        ([], {"faqs": json.dumps([{"question": "q"}])}, "'question' and 'answer'"),
        ([], {"faqs": json.dumps({"question": "q", "answer": "a"})}, "must be a JSON array"),
    ]
    for n, (files, extra, message) in enumerate(cases):
        client = tenant if n < 9 else await tenant_factory("more")  # type: ignore[operator]
        r = await client.client.post(
            "/external/kb", data={"kb_name": "bad", **extra}, files=files or None
        )
        assert r.status_code == 400, (message, r.text)
        assert message in r.json()["detail"], (message, r.json())
    r = await tenant.client.post("/external/kb", data={"urls": "[]"})
    assert r.status_code == 422  # kb_name missing
    assert (await tenant.client.get("/external/kb/all")).json() == []  # nothing was created


async def test_unreadable_pdf_fails_with_reason_and_the_kb_stays_usable(
    app: FastAPI, tenant: Tenant
) -> None:
    broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer garbage"
    scanned = pdf_document([""])  # a page without text: what a scan looks like
    r = await create_kb(
        tenant,
        "Mixed",
        files=[pdf_upload("broken.pdf", broken), pdf_upload("scan.pdf", scanned)],
        faqs=[PETS_FAQ],
    )
    assert r.status_code == 200, r.text
    kb_id = r.json()["kb_id"]
    await wait_settled(app, tenant, kb_id)
    kb = (await tenant.client.get(f"/external/kb/{kb_id}")).json()
    assert kb["status"] == "failed"
    assert "broken.pdf: not a readable PDF" in kb["failure_reason"]
    assert "scan.pdf: no text found" in kb["failure_reason"]
    statuses = {f["filename"]: f["processing_status"] for f in kb["files"]}
    assert statuses == {"broken.pdf": "failed", "scan.pdf": "failed"}
    assert kb["faqs"][0]["processing_status"] == "completed"
    # What did work is searchable already, and removing the bad files settles the KB.
    assert any("service animals" in p for p in await search(app, tenant, kb_id, "pets allowed?"))
    r = await tenant.client.patch(
        "/external/kb",
        data={"kb_id": kb_id, "files_to_remove": json.dumps([f["file_id"] for f in kb["files"]])},
    )
    assert r.status_code == 200 and r.json()["items_removed"] == 2
    kb = (await tenant.client.get(f"/external/kb/{kb_id}")).json()
    assert kb["status"] == "completed" and kb["failure_reason"] is None


async def attached(t: Tenant, agent_id: str) -> list[dict[str, str]]:
    agent = (await t.client.get(f"/agent/{agent_id}")).json()["agents"]
    kbs: list[dict[str, str]] = agent["version_details"][agent["active_agent_version_id"]][
        "knowledge_bases"
    ]
    assert agent["knowledge_base_id"] == (kbs[0]["knowledge_base_id"] if kbs else None)
    return kbs


async def test_attach_and_remove_through_agent_edits(
    app: FastAPI, tenant: Tenant, tenant_factory: object
) -> None:
    agent_id = (await tenant.client.post("/public/agent", json=public_agent())).json()["data"]["id"]
    kb_id = (await create_kb(tenant, "FAQ only", faqs=[PETS_FAQ])).json()["kb_id"]
    second = (await create_kb(tenant, "Second", faqs=[PETS_FAQ])).json()["kb_id"]

    async def op(name: str, kb: str) -> httpx.Response:
        return await tenant.client.patch(
            "/agent/v1", json={"operation": name, "agent_id": agent_id, "kb_id": kb}
        )

    r = await op("attach_kb", kb_id)
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Knowledge Base attached successfully"
    r = await op("attach_kb", kb_id)
    assert r.status_code == 400 and r.json()["detail"] == "Knowledge Base already attached"
    assert (await op("attach_kb", second)).status_code == 200
    assert await attached(tenant, agent_id) == [
        {"knowledge_base_id": kb_id, "knowledge_base_name": "FAQ only"},
        {"knowledge_base_id": second, "knowledge_base_name": "Second"},
    ]
    # Another workspace's knowledge base is not there for this one.
    other = await tenant_factory("Other")  # type: ignore[operator]
    foreign = (await create_kb(other, "Theirs", faqs=[PETS_FAQ])).json()["kb_id"]
    assert (await op("attach_kb", foreign)).status_code == 404
    assert (await other.client.get(f"/external/kb/{kb_id}")).status_code == 404

    r = await op("remove_kb", kb_id)
    assert r.status_code == 200 and r.json()["message"] == "Knowledge Base removed successfully"
    assert (await op("remove_kb", kb_id)).status_code == 404
    assert [kb["knowledge_base_id"] for kb in await attached(tenant, agent_id)] == [second]


async def test_rate_limits_answer_429(app: FastAPI, tenant: Tenant) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    for _ in range(10):  # 10 deletes a minute
        assert (await tenant.client.delete(f"/external/kb/{missing}")).status_code == 404
    r = await tenant.client.delete(f"/external/kb/{missing}")
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 60
    for n in range(10):  # 10 creations an hour
        assert (await create_kb(tenant, f"kb {n}")).status_code == 200
    r = await create_kb(tenant, "one too many")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 3000
