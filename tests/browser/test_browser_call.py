"""A browser call from the dashboard: Chromium's fake microphone plays a question spoken by
the bundled Piper voice; the server hears it with the offline VAD and STT; the agent's
reply comes back as audio; the call's transcript holds the question."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import RunningServer, Tab, create_agent, shot, sign_in, wait_until
from tests.browser.server import REPLY


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def test_talk_to_an_assistant_from_the_browser(tab: Tab, speech_server: RunningServer) -> None:
    page = tab.page
    agent = create_agent(speech_server, agent_name="Front desk", intro_message="Hello!")
    sign_in(page, speech_server)
    page.goto(f"{speech_server.base_url}/dashboard/#/assistants/{agent['id']}")
    page.get_by_role("button", name="Start talking").click()
    state = page.locator("#talk-state")
    expect(state).to_have_attribute("data-state", "live")
    shot(page, "talk-live")

    # What the server heard comes back as a caption; then the reply (audio), then goodbye.
    expect(page.locator("#talk-heard li")).to_contain_text(
        re.compile("opening hours", re.I), timeout=60_000
    )
    expect(state).to_have_attribute("data-state", "ended", timeout=60_000)
    received = float(page.locator("#talk-audio").get_attribute("data-seconds") or 0)
    # ToneTTS speaks 50 ms per 4 characters: the intro and the whole answer arrived
    assert received >= 0.05 * (len(REPLY) // 4), received
    shot(page, "talk-ended")

    page.get_by_role("link", name="See this call's transcript and recording").click()
    expect(page.locator("#transcript li").nth(1)).to_contain_text(re.compile("opening hours", re.I))
    expect(page.locator("#analysis-summary")).not_to_be_empty()
    shot(page, "webcall-detail")

    call_id = page.url.rsplit("/", 1)[1]
    with speech_server.api() as api:

        def done() -> dict[str, Any] | None:
            r = api.get("/calling/call-details", params={"id": call_id})
            data: dict[str, Any] = r.json()["data"]
            return data if data["call_status"] == "completed" else None

        details = wait_until(done)
    assert details["call_direction"] == "webcall"
    heard = " ".join(t["user"] for t in details["transcription_url"] if "user" in t)
    assert {"what", "opening", "hours"} <= words(heard), heard
    assert details["transcription_url"][-1] == {"bot": REPLY}
    assert details["end_reason"] == "agent_hangup"
