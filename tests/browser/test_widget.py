"""The embeddable widget on a page served from another origin (a second local HTTP server):
one script tag; it calls the assistant from a whitelisted origin and is refused elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningServer, Tab, create_agent, free_port, shot


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A customer's website: static files on its own port."""
    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, port
    httpd.shutdown()
    httpd.server_close()


def _page(root: Path, server: RunningServer, agent: dict[str, Any]) -> None:
    (root / "index.html").write_text(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme shop</title>
<link rel="icon" href="data:,"></head>
<body><h1>Acme shop</h1><p>Questions? Call us from this page.</p>
<script>window.cwEvents = [];
  for (const n of ["conversation_status", "widget_error"])
    window.addEventListener("callwright:" + n, (e) => window.cwEvents.push([n, e.detail]));</script>
<script src="{server.base_url}/widget.js" async
  data-agent-id="{agent["id"]}" data-public-key="{agent["webcall_public_key"]}"
  data-button-text="Ask us" data-color="#0a7d4f"
  data-variables='{{"callee_name": "Web visitor"}}'></script>
</body></html>"""
    )


def _events(page: Page) -> list[list[Any]]:
    events: list[list[Any]] = page.evaluate("() => window.cwEvents")
    return events


def test_the_widget_calls_from_a_whitelisted_site_only(
    tab: Tab, fake_server: RunningServer, site: tuple[Path, int]
) -> None:
    root, port = site
    agent = create_agent(fake_server, agent_name="Shop helper", intro_message="Hi, how can I help?")
    allowed = f"http://127.0.0.1:{port}"
    with fake_server.api() as api:
        r = api.patch(
            "/agent/v1",
            json={
                "operation": "edit_agent_whitelisted_domains",
                "agent_id": agent["id"],
                "whitelisted_domains": [allowed],
            },
        )
        assert r.status_code == 200, r.text
    _page(root, fake_server, agent)
    page = tab.page

    page.goto(f"{allowed}/")
    button = page.get_by_role("button", name="Ask us")
    expect(button).to_be_visible()
    shot(page, "widget-idle")
    button.click()
    panel = page.locator("#callwright-widget").get_by_role("status")
    expect(panel).to_have_text("Connected. Speak now.")
    shot(page, "widget-live")
    expect(panel).to_have_text("Call ended. Thank you!", timeout=40_000)
    events = _events(page)
    assert [e[1]["status"] for e in events] == ["started", "ended"], events
    call_id = events[0][1]["callId"]
    with fake_server.api() as api:
        details = api.get("/calling/call-details", params={"id": call_id}).json()["data"]
    assert details["call_direction"] == "webcall"
    assert details["custom_args_values"] == {"callee_name": "Web visitor"}
    assert {"user": "Yes, I would like a demo."} in details["transcription_url"]

    # The same page from another origin (localhost is not 127.0.0.1 to a browser).
    page.goto(f"http://localhost:{port}/")
    page.get_by_role("button", name="Ask us").click()
    expect(panel).to_have_text("This website is not allowed to call this assistant.")
    expect(page.locator("#callwright-widget")).to_have_attribute("data-state", "error")
    assert _events(page) == [
        ["widget_error", {"code": 403, "message": _events(page)[0][1]["message"]}]
    ]
    assert "whitelisted" in _events(page)[0][1]["message"]
    shot(page, "widget-refused")
    with fake_server.api() as api:
        history = api.get("/calling/history", params={"agent_id": agent["id"]}).json()
    assert history["total"] == 1  # the refused page placed no call
