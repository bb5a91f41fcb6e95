"""The Twilio provider against a fake Twilio, both served on loopback.

The platform side is the real route module (``callwright.api.routes.twilio``) under the
API prefix, with the real :class:`TwilioGateway`; the provider is built through the
provider registry from a telephony account's credentials, as the Telephony directory does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi import APIRouter, FastAPI

from callwright.api import errors
from callwright.api.routes import twilio as twilio_routes
from callwright.media.audio import pcm16_to_ulaw, ulaw_to_pcm16
from callwright.providers import registry
from callwright.providers.base import FRAME_BYTES, SAMPLE_RATE_HZ, EngineSpec
from callwright.providers.telephony.twilio import TwilioTelephony
from callwright.providers.telephony.twilio_gateway import TwilioGateway
from tests.twilio.fake_twilio import FakeTwilio, bound_socket, serve

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token-0123456789"
SECRET = b"twilio-test-secret"
FROM = "+14155550000"


@dataclass
class Harness:
    twilio: FakeTwilio
    gateway: TwilioGateway
    telephony: TwilioTelephony
    platform_url: str

    def telephony_with(self, **credentials: object) -> TwilioTelephony:
        return make_telephony(self.gateway, **{"api_base_url": self.twilio.base_url, **credentials})


def make_telephony(gateway: TwilioGateway, **credentials: object) -> TwilioTelephony:
    """As the Telephony directory builds it: the account's credentials plus the gateway."""
    options = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, **credentials}
    options["gateway"] = gateway
    telephony: TwilioTelephony = registry.create("telephony", EngineSpec("twilio", options))
    return telephony


def platform_app(gateway: TwilioGateway) -> FastAPI:
    app = FastAPI()
    errors.install(app)
    api = APIRouter(prefix="/ca/api/v0")
    api.include_router(twilio_routes.router)
    app.include_router(api)
    app.state.container = SimpleNamespace(twilio=gateway)  # the one field the routes read
    return app


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    sock = bound_socket()
    host, port = sock.getsockname()[:2]
    gateway = TwilioGateway(public_url=f"http://{host}:{port}", secret=SECRET)
    server, serving, url = await serve(platform_app(gateway), sock=sock)
    try:
        async with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as twilio:
            yield Harness(
                twilio, gateway, make_telephony(gateway, api_base_url=twilio.base_url), url
            )
            await gateway.aclose()
    finally:
        server.should_exit = True
        await serving


# --------------------------------------------------------------------------- audio helpers


def tone(freq_hz: float, seconds: float, *, rate_hz: int, amplitude: int = 8000) -> bytes:
    t = np.arange(int(rate_hz * seconds)) / rate_hz
    return (np.sin(2 * np.pi * freq_hz * t) * amplitude).astype("<i2").tobytes()


def tone_ulaw(freq_hz: float, seconds: float) -> bytes:
    return pcm16_to_ulaw(tone(freq_hz, seconds, rate_hz=8000))


def agent_frames(freq_hz: float, seconds: float) -> list[bytes]:
    pcm = tone(freq_hz, seconds, rate_hz=SAMPLE_RATE_HZ)
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


def dominant_hz(pcm: bytes, rate_hz: int) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * rate_hz / x.size)


def rms(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(x * x))) if x.size else 0.0


def decode(ulaw: bytes) -> bytes:
    return ulaw_to_pcm16(ulaw)


async def eventually(check: Callable[[], bool], *, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
