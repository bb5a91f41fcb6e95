"""The dashboard in Chromium against a real server with scripted engines: sign in, create an
assistant, place a sim call and watch its detail page fill in; every page on a phone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import (
    RunningServer,
    Tab,
    accessible_controls,
    create_agent,
    fits_phone,
    shot,
    sign_in,
)
from tests.calls.conftest import ANALYSIS, call_body


def test_a_wrong_key_is_refused(tab: Tab, fake_server: RunningServer) -> None:
    page = tab.page
    page.goto(f"{fake_server.base_url}/dashboard/")
    shot(page, "sign-in")
    page.get_by_label("API key", exact=True).fill("cwk_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status").first).to_contain_text(
        re.compile("invalid|credentials", re.I)
    )
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()


def test_create_an_assistant_place_a_sim_call_and_watch_it_fill_in(
    tab: Tab, fake_server: RunningServer
) -> None:
    page = tab.page
    sign_in(page, fake_server)
    page.get_by_role("link", name="New assistant").click()
    page.get_by_label("Name", exact=True).fill("Renewals desk")
    page.get_by_label("Introduction and objective", exact=True).fill(
        "You are Maya from Acme Internet."
    )
    page.get_by_label("Response guidelines", exact=True).fill("One short sentence per answer.")
    page.get_by_label("Task", exact=True).fill("Ask whether the customer wants to renew.")
    page.get_by_label("First message", exact=True).fill(
        "Hello @{{callee_name}}, this is Maya from Acme."
    )
    page.get_by_label("Variables", exact=True).fill("plan")
    shot(page, "assistant-new")
    page.get_by_role("button", name="Create assistant").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Renewals desk")
    expect(page.get_by_role("textbox", name="First message")).to_have_value(
        "Hello @{{callee_name}}, this is Maya from Acme."
    )
    # Edit the prompt and the call settings; the server keeps them.
    page.get_by_label("Prompt", exact=True).fill("You are Maya. Ask about the renewal.")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status").first).to_have_text("Saved.")
    page.get_by_label("Max call length (s)", exact=True).fill("90")
    page.get_by_role("button", name="Save call settings").click()
    expect(page.get_by_role("status").first).to_have_text("Call settings saved.")
    agent_id = page.url.rsplit("/", 1)[1]
    with fake_server.api() as api:
        detail = api.get(f"/agent/{agent_id}").json()["agents"]
    version = detail["version_details"][detail["active_agent_version_id"]]
    assert version["call_config"]["max_call_length"] == 90
    assert "Ask about the renewal" in detail["agent_config"]["agent_prompt"]
    assert "plan" in detail["agent_config"]["custom_variables"]
    shot(page, "assistant-detail")

    page.get_by_label("Callee name", exact=True).fill("Ravi")
    page.get_by_role("button", name="Call now").click()
    expect(page).to_have_url(re.compile(r"#/calls/[0-9a-f-]{36}$"))
    # The page refreshes itself: the transcript, recording, analysis and latency appear.
    transcript = page.locator("#transcript li")
    expect(transcript.first).to_contain_text("Hello Ravi, this is Maya from Acme.")
    expect(transcript.nth(1)).to_contain_text("Yes, I would like a demo.")
    expect(page.locator("#analysis-summary")).to_have_text(ANALYSIS["summary"])
    expect(page.locator("#call-status")).to_contain_text("completed")
    expect(page.locator("#recording")).to_have_attribute(
        "src", re.compile(r"^/ca/api/v0/recordings/")
    )
    expect(page.get_by_role("img", name=re.compile("Latency of [1-9]"))).to_be_visible()
    duration = page.evaluate(
        """() => new Promise((ok) => { const a = document.querySelector('#recording');
             if (a.readyState >= 1) ok(a.duration); else a.addEventListener('loadedmetadata',
             () => ok(a.duration)); a.load(); })"""
    )
    assert duration > 1.0  # the signed recording link plays in the page
    shot(page, "call-detail")

    page.get_by_role("link", name="Calls").click()
    page.get_by_label("Assistant", exact=True).select_option(agent_id)
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#calls-count")).to_have_text("1 shown of 1")
    expect(page.get_by_role("cell", name="Ravi", exact=True)).to_be_visible()
    shot(page, "calls")


def _visit(page: Page, server: RunningServer, route: str, heading: str, name: str) -> None:
    page.goto(f"{server.base_url}/dashboard/#/{route}")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert accessible_controls(page) == [], f"unlabelled controls on {route}"
    assert fits_phone(page), f"{route} scrolls sideways on a phone"
    shot(page, name)


def test_every_page_fits_a_phone_and_labels_its_controls(
    browser_phone: Tab, fake_server: RunningServer
) -> None:
    page = browser_phone.page
    agent = create_agent(fake_server, agent_name="Phone check")
    sign_in(page, fake_server)
    _visit(page, fake_server, "assistants", "Assistants", "phone-assistants")
    _visit(page, fake_server, f"assistants/{agent['id']}", "Phone check", "phone-assistant")
    _visit(page, fake_server, "assistants/new", "New assistant", "phone-assistant-new")
    _visit(page, fake_server, "calls", "Calls", "phone-calls")
    _visit(page, fake_server, "numbers", "Numbers", "numbers")
    _visit(page, fake_server, "webhooks", "Webhooks", "webhooks")
    _visit(page, fake_server, "keys", "API keys", "api-keys")
    # keyboard users see where they are
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline


def test_a_page_left_while_loading_does_not_paint_over_the_next(
    tab: Tab, fake_server: RunningServer
) -> None:
    """Signing in opens the assistants list; leaving for another page before the list arrives
    must not bring the list back over that page (a flaky CI failure before routes were fenced)."""
    page = tab.page
    held: list[Route] = []
    page.route("**/agent/all*", lambda route: held.append(route))
    sign_in(page, fake_server)
    page.goto(f"{fake_server.base_url}/dashboard/#/numbers")
    expect(page.get_by_role("heading", level=1)).to_have_text("Numbers")
    assert held, "the assistants list was not requested"
    with page.expect_response("**/agent/all*"):
        held[0].continue_()
    page.wait_for_timeout(300)  # the stale list has had time to render, were it not fenced
    expect(page.get_by_role("heading", level=1)).to_have_text("Numbers")
    assert page.title().startswith("Numbers")


def test_a_call_page_left_mid_poll_stops_polling(tab: Tab, fake_server: RunningServer) -> None:
    """A call still queued keeps its page polling; leaving while a poll is in flight must not
    leave a timer behind that polls a page nobody sees."""
    agent = create_agent(fake_server, agent_name="Queued")
    with fake_server.api() as api:
        number = api.get("/workspace/numbers").json()["workspace_numbers"][0]["id"]
        later = {"call_time": {"scheduled_at": "2099-01-01T09:00:00+05:30"}}
        body = call_body(agent["id"], from_number_id=number, call_config=later)
        r = api.post("/calling/outbound/individual", json=body)
        assert r.status_code == 200, r.text
        call_id = r.json()["data"]["call_id"]
    page = tab.page
    polls: list[Route] = []

    def hold_the_second(route: Route) -> None:
        polls.append(route)
        if len(polls) != 2:
            route.continue_()

    page.route("**/calling/call-details*", hold_the_second)
    sign_in(page, fake_server)
    page.goto(f"{fake_server.base_url}/dashboard/#/calls/{call_id}")
    expect(page.locator("#call-status")).to_contain_text("registered")
    for _ in range(50):  # the page polls every second
        if len(polls) == 2:
            break
        page.wait_for_timeout(100)
    page.get_by_role("link", name="Assistants").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Assistants")
    with page.expect_response("**/calling/call-details*"):
        polls[1].continue_()
    page.wait_for_timeout(2500)  # more than two poll periods
    assert len(polls) == 2
    with fake_server.api() as api:
        api.patch("/campaign/terminate", json={"call_ids": [call_id]}).raise_for_status()


def test_numbers_webhooks_and_keys(tab: Tab, fake_server: RunningServer) -> None:
    page = tab.page
    agent = create_agent(fake_server, agent_name="Hooks")
    sign_in(page, fake_server)

    page.goto(f"{fake_server.base_url}/dashboard/#/numbers")
    expect(page.get_by_role("cell", name=re.compile(r"^\+1555"))).to_be_visible()  # the sim number
    page.get_by_label("Provider", exact=True).select_option("sim")
    page.get_by_label("Name", exact=True).fill("Second sim")
    page.get_by_role("button", name="Add account").click()
    expect(page.get_by_role("cell", name="Second sim", exact=True)).to_be_visible()
    page.get_by_label("Account", exact=True).select_option(label="Second sim (sim)")
    page.get_by_label("Numbers", exact=True).fill("+15550142001")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("cell", name="+15550142001", exact=True)).to_be_visible()

    page.goto(f"{fake_server.base_url}/dashboard/#/webhooks?agent_id={agent['id']}")
    page.get_by_label("URL", exact=True).fill("http://127.0.0.1:9/hook")
    page.get_by_role("button", name="Subscribe").click()
    link = page.get_by_role("link", name="http://127.0.0.1:9/hook")
    expect(link).to_be_visible()
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_role("status").first).to_contain_text("Test event sent")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deliveries")
    expect(page.get_by_role("cell", name="endpoint_test", exact=True)).to_be_visible()
    shot(page, "webhook-deliveries")

    page.goto(f"{fake_server.base_url}/dashboard/#/keys")
    page.get_by_label("Name", exact=True).fill("billing backend")
    page.get_by_role("button", name="Create key").click()
    new_key = page.locator("#new-key-value")
    expect(new_key).to_have_text(re.compile(r"^cwk_"))
    key = new_key.inner_text()
    with fake_server.api() as api:
        api.headers["X-API-KEY"] = key
        assert api.get("/workspace").status_code == 200
        page.get_by_role("button", name="Revoke billing backend").click()  # confirm() accepted
        expect(page.get_by_role("status").first).to_have_text("Key revoked.")
        assert api.get("/workspace").status_code == 401
    shot(page, "api-keys-after")
