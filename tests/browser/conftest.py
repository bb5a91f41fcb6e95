"""Browser tests: Playwright drives Debian's Chromium (headless, /usr/bin/chromium) against
real callwright server processes. Chromium's fake microphone plays a WAV made with the
bundled offline TTS. Screenshots of every page land in test-artifacts/ (gitignored)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from callwright.media.audio import resample
from callwright.providers import registry
from callwright.providers.base import SAMPLE_RATE_HZ, EngineSpec

CHROMIUM = os.environ.get("CALLWRIGHT_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "What are your opening hours?"
PHONE = {"width": 375, "height": 740}

expect.set_options(timeout=20_000)


@dataclass
class RunningServer:
    base_url: str
    api_key: str
    data_dir: Path

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base_url}/ca/api/v0", headers={"X-API-KEY": self.api_key}, timeout=30
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_server(tmp: Path, mode: str) -> Iterator[RunningServer]:
    port = free_port()
    key = f"cwk_{secrets.token_urlsafe(24)}"
    env = {
        **os.environ,
        "CALLWRIGHT_DATA_DIR": str(tmp / "data"),
        "CALLWRIGHT_INIT_API_KEY": key,
        "CALLWRIGHT_RATE_LIMIT_PER_S": "0",
        "CALLWRIGHT_PORT": str(port),
        "CALLWRIGHT_DEFAULT_CREDITS": "1000",
    }
    env.pop("CALLWRIGHT_DATABASE_URL", None)
    log = (tmp / f"server-{mode}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.browser.server", str(port), mode],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240  # loading the speech models is slow on a busy machine
    try:
        while True:
            assert proc.poll() is None, (tmp / f"server-{mode}.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield RunningServer(base, key, tmp / "data")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def fake_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Scripted engines on both ends of sim calls and browser calls."""
    yield from _run_server(tmp_path_factory.mktemp("fake-server"), "fake")


@pytest.fixture(scope="session")
def speech_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """Browser calls heard by the offline VAD and STT."""
    yield from _run_server(tmp_path_factory.mktemp("speech-server"), "speech")


@pytest.fixture(scope="session")
def question_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The caller's question, spoken by the bundled Piper voice, after 3 s of silence (the
    call connects and the intro plays meanwhile) and before 4 s of it (the turn ends)."""
    import asyncio

    async def speak() -> bytes:
        tts = registry.create("tts", EngineSpec("piper"))
        return b"".join([chunk async for chunk in tts.synthesize(QUESTION)])

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
        spoken = pool.submit(lambda: asyncio.run(speak())).result()
    speech = np.frombuffer(spoken, dtype="<i2")
    silence = np.zeros(SAMPLE_RATE_HZ * 3, dtype="<i2")
    pcm = np.concatenate([silence, speech, silence, silence[:SAMPLE_RATE_HZ]])
    # Chromium's fake capture device runs at 48 kHz; give it that rate.
    up = resample(pcm.tobytes(), in_rate_hz=SAMPLE_RATE_HZ, out_rate_hz=48_000)
    path = tmp_path_factory.mktemp("audio") / "question.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48_000)
        w.writeframes(up)
    return path


# Module scope, not session: Playwright's sync API runs an event loop in this thread while it
# is open, and the async tests of later directories need the thread's loop free again.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright, question_wav: Path) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), (
        f"{CHROMIUM} missing: `apt-get install chromium` (make test does)"
    )
    b = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={question_wav}%noloop",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )
    yield b
    b.close()


@dataclass
class Tab:
    page: Page
    errors: list[str]


def _tab(browser: Browser, viewport: dict[str, int]) -> Iterator[Tab]:
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["microphone"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())  # confirm("Revoke …?") and the like

    def console(msg: ConsoleMessage) -> None:
        # 4xx answers the test provokes are logged as failed loads; script errors are not ok
        if msg.type == "error" and "Failed to load resource" not in msg.text:
            errors.append(msg.text)

    page.on("console", console)
    yield Tab(page, errors)
    context.close()
    assert not errors, errors


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    """A fresh desktop-sized browser context; JavaScript errors fail the test."""
    yield from _tab(browser, {"width": 1200, "height": 900})


@pytest.fixture
def browser_phone(browser: Browser) -> Iterator[Tab]:
    """The same on a phone-sized screen."""
    yield from _tab(browser, PHONE)


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, server: RunningServer) -> None:
    page.goto(f"{server.base_url}/")
    page.get_by_label("API key").fill(server.api_key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def create_agent(server: RunningServer, **overrides: Any) -> dict[str, Any]:
    from tests.api.bodies import public_agent

    with server.api() as api:
        r = api.post("/public/agent", json=public_agent(**overrides))
        assert r.status_code == 200, r.text
        detail: dict[str, Any] = api.get(f"/agent/{r.json()['data']['id']}").json()["agents"]
    return detail


def wait_until(check: Callable[[], Any], *, timeout_s: float = 30, step_s: float = 0.2) -> Any:
    """Poll the server (not the page: pages are waited on with expect)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        time.sleep(step_s)


def accessible_controls(page: Page) -> list[str]:
    """Form controls without a label: the page's accessibility defects (empty is good)."""
    result: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
          .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]'))
          .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
          .map((el) => el.outerHTML.slice(0, 120))"""
    )
    return result


def fits_phone(page: Page) -> bool:
    width: bool = page.evaluate(
        "() => document.documentElement.scrollWidth <= window.innerWidth + 1"
    )
    return width
