"""Campaigns and analytics pages against the campaign and analytics APIs: a CSV with bad
rows is previewed and its rejected rows listed; a campaign is started, paused, resumed and
watched to the end; the analytics page draws the calls it made."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import RunningServer, Tab, create_agent, shot, sign_in
from tests.calls.conftest import call_body

CSV = """Name,Mobile Number,plan
Asha,+14155550111,gold
Ravi,not-a-number,silver
Meera,+14155550112,gold
Omar,,bronze
Li,+14155550113,silver
"""


def test_upload_a_csv_with_bad_rows_then_run_the_campaign(
    tab: Tab, fake_server: RunningServer, tmp_path: Path
) -> None:
    csv = tmp_path / "contacts.csv"
    csv.write_text(CSV)
    agent = create_agent(fake_server, agent_name="Campaigner", custom_variables=["plan"])
    page = tab.page
    sign_in(page, fake_server)
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_label("Campaign name", exact=True).fill("Renewals November")
    page.get_by_label("Assistant", exact=True).select_option(agent["id"])
    page.get_by_label("Contacts (CSV)", exact=True).set_input_files(str(csv))

    # The browser's own check, before anything is sent.
    expect(page.locator("#csv-summary")).to_have_text("5 rows, 2 with problems.")
    bad = page.locator("#csv-preview tr.bad")
    expect(bad).to_have_count(2)
    expect(bad.first).to_contain_text("'not-a-number' is not a phone number")
    expect(bad.nth(1)).to_contain_text("no mobile number")
    shot(page, "campaign-preview")

    # The server refuses the file and names the rows...
    page.get_by_role("button", name="Upload contacts").click()
    rejected = page.locator("#rejected-rows tbody tr")
    expect(rejected).to_have_count(2)
    expect(page.get_by_role("status").first).not_to_be_empty()
    shot(page, "campaign-rejected")
    # ...or skips them when asked to.
    page.get_by_label("Skip bad rows instead of refusing the file").check()
    page.get_by_role("button", name="Upload contacts").click()
    expect(page.locator("#csv-result")).to_contain_text("3 of 5 contacts imported.")
    expect(rejected).to_have_count(2)
    page.get_by_role("link", name="Open the campaign").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Renewals November")
    expect(page.locator("#campaign-status")).to_have_text("draft")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#campaign-status")).to_have_text(re.compile("running|scheduled|completed"))
    shot(page, "campaign-running")
    expect(page.locator("#campaign-status")).to_have_text("completed", timeout=60_000)
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(page.get_by_role("cell", name="Asha", exact=True)).to_be_visible()
    shot(page, "campaign-completed")


def test_pause_and_resume_a_campaign(tab: Tab, fake_server: RunningServer, tmp_path: Path) -> None:
    csv = tmp_path / "later.csv"
    csv.write_text("Name,Mobile Number\nZara,+14155550121\n")
    agent = create_agent(fake_server, agent_name="Later")
    page = tab.page
    sign_in(page, fake_server)
    page.goto(f"{fake_server.base_url}/dashboard/#/campaigns")
    page.get_by_label("Campaign name", exact=True).fill("Next week")
    page.get_by_label("Assistant", exact=True).select_option(agent["id"])
    page.get_by_label("Start", exact=True).fill("2031-01-05T10:00")  # scheduled: it waits
    page.get_by_label("End", exact=True).fill("2031-01-06T18:00")
    page.get_by_label("Contacts (CSV)", exact=True).set_input_files(str(csv))
    expect(page.locator("#csv-summary")).to_have_text("1 rows, 0 with problems.")
    page.get_by_role("button", name="Upload contacts").click()
    page.get_by_role("link", name="Open the campaign").click()
    page.get_by_role("button", name="Start").click()
    status = page.locator("#campaign-status")
    expect(status).to_have_text("scheduled")
    page.get_by_role("button", name="Pause").click()
    expect(status).to_have_text("paused")
    page.get_by_role("button", name="Resume").click()
    expect(status).to_have_text(re.compile("scheduled|running"))  # it still waits for 2031
    shot(page, "campaign-resumed")
    page.get_by_role("button", name="Terminate").click()  # confirm() is accepted
    expect(page.get_by_role("status").first).to_have_text("Queued calls terminated.")
    expect(status).to_have_text(re.compile("cancelled|completed"))


def test_the_analytics_page_draws_the_calls(tab: Tab, fake_server: RunningServer) -> None:
    agent = create_agent(fake_server, agent_name="Counted")
    with fake_server.api() as api:
        number = api.get("/workspace/numbers").json()["workspace_numbers"][0]["id"]
        for to in ("+14155550131", "+14155550132"):
            r = api.post(
                "/calling/outbound/individual",
                json=call_body(agent["id"], to, name="Ann", from_number_id=number),
            )
            assert r.status_code == 200, r.text
    page = tab.page
    sign_in(page, fake_server)
    page.goto(f"{fake_server.base_url}/dashboard/#/analytics?agent_id={agent['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")
    # The calls take a moment: reload until both are connected.
    for _ in range(60):
        if page.locator("#kpi-connected .value").inner_text() == "2":
            break
        page.wait_for_timeout(500)  # the server is finishing the calls, not the page rendering
        page.reload()
        expect(page.locator("#kpi-total")).to_be_visible()
    expect(page.locator("#kpi-total .value")).to_have_text("2")
    expect(page.locator("#kpi-connected .value")).to_have_text("2")
    expect(page.get_by_role("img", name="Calls per day")).to_be_visible()
    expect(page.get_by_role("img", name="Calls by status")).to_be_visible()
    expect(page.get_by_role("img", name="Completed calls by duration")).to_be_visible()
    expect(page.get_by_role("cell", name="Counted", exact=True)).to_be_visible()
    shot(page, "analytics")
