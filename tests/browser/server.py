"""A real callwright server process for the browser tests: the real API, dashboard, widget,
database, job runner (in-process) and sim network. Run: python -m tests.browser.server PORT MODE

MODE ``fake``: the calling tests' fake engines on both ends of sim calls (instant, scripted).
MODE ``speech``: browser calls hear with the offline engines (Silero VAD, faster-whisper), so
what Chromium's fake microphone says really reaches the transcript; the reply is scripted
and spoken as a tone (the test checks that agent audio arrives, not what it says).
Settings come from CALLWRIGHT_* variables."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import uvicorn

from callwright.api.app import create_app
from callwright.bootstrap import Overrides
from callwright.domain.assistant import VersionSettings
from callwright.domain.voices import VoiceEntry
from callwright.media.config import Engines
from callwright.providers import registry
from callwright.providers.base import EngineSpec
from callwright.providers.telephony.sim import SimTelephony
from callwright.services import workspaces
from callwright.settings import Settings
from callwright.sim.network import SimNetwork
from callwright.testing import ScriptedLLM
from tests.calls.conftest import FakeEngines, ToneTTS, fake_callee

REPLY = "We are open from nine to six every day. Goodbye!"


class SpeechEngines(FakeEngines):
    """Real ears (VAD + STT), a scripted answer."""

    async def for_call(self, settings: VersionSettings, voice: VoiceEntry) -> Engines:
        vad, stt = await asyncio.gather(
            asyncio.to_thread(registry.create, "vad", EngineSpec("silero")),
            asyncio.to_thread(registry.create, "stt", EngineSpec("whisper")),
        )
        return Engines(vad=vad, stt=stt, llm=ScriptedLLM([REPLY]), tts=ToneTTS())


async def serve(port: int, mode: str) -> None:
    settings = Settings()
    network = SimNetwork(log_dir=Path(settings.data_dir) / "sim")
    sim = SimTelephony(network=network, engines=fake_callee, ring_delay_s=0.05)
    engines = SpeechEngines() if mode == "speech" else FakeEngines()
    if mode == "speech":  # load the models before the first call needs them
        await asyncio.to_thread(registry.create, "stt", EngineSpec("whisper"))
    # In-process jobs: DBOS's first start costs ~20 s here and has tests of its own.
    overrides = Overrides(engines=engines, telephony={"sim": sim}, memory_jobs=True)
    app = create_app(settings, overrides=overrides)
    async with app.router.lifespan_context(app):
        key = settings.init_api_key.get_secret_value() if settings.init_api_key else None
        await workspaces.ensure_default(
            app.state.container.uow,
            init_api_key=key,
            credits=settings.default_credits,
            sim_number=settings.sim_number,
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        await uvicorn.Server(config).serve()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2]))
