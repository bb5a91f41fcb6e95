"""A real callwright server process (real API, database and DBOS jobs, real sim network) with
fake speech engines, for tests that kill and restart it. Run: python -m tests.e2e.fake_server PORT
Settings come from CALLWRIGHT_* variables; CALLWRIGHT_TEST_ANALYSIS_DELAY_S slows analysis."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn

from callwright.api.app import create_app
from callwright.bootstrap import Overrides
from callwright.cli import first_start
from callwright.domain.assistant import VersionSettings
from callwright.providers.base import ChatMessage, LanguageModel
from callwright.providers.telephony.sim import SimTelephony
from callwright.settings import Settings
from callwright.sim.network import SimNetwork
from tests.calls.conftest import ANALYSIS, FakeEngines, fake_callee


class SlowAnalysisLLM:
    def __init__(self, delay_s: float) -> None:
        self._delay_s = delay_s

    def stream(self, messages: Sequence[ChatMessage], **_: Any) -> AsyncIterator[str]:
        raise NotImplementedError("analysis only")

    async def complete_json(self, messages: Sequence[ChatMessage], **_: Any) -> dict[str, Any]:
        await asyncio.sleep(self._delay_s)
        return dict(ANALYSIS)


class E2EEngines(FakeEngines):
    async def analysis_llm(self, settings: VersionSettings) -> LanguageModel:
        return SlowAnalysisLLM(float(os.environ.get("CALLWRIGHT_TEST_ANALYSIS_DELAY_S", "0")))  # type: ignore[return-value]


def main(port: int) -> None:
    settings = Settings()
    asyncio.run(first_start(settings))
    network = SimNetwork(log_dir=Path(settings.data_dir) / "sim")
    sim = SimTelephony(network=network, engines=fake_callee, ring_delay_s=0.05)
    app = create_app(settings, overrides=Overrides(engines=E2EEngines(), telephony={"sim": sim}))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(int(sys.argv[1]))
