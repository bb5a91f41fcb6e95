"""``run_pipeline``: one call between a :class:`CallSession` and a scripted caller."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from callwright.media.clock import MediaClock
from callwright.media.config import CallResult, SessionConfig
from callwright.media.session import CallSession
from callwright.providers.base import SAMPLE_RATE_HZ
from callwright.testing import marker
from callwright.testing.streams import CallerEnd


@dataclass(frozen=True, slots=True)
class Say:
    """Speak ``text`` (as marker audio that FakeSTT reads back)."""

    text: str
    ms_per_char: int = marker.DEFAULT_MS_PER_CHAR


@dataclass(frozen=True, slots=True)
class Noise:
    """A burst of noise (a cough): loud, but no words."""

    ms: int = 150
    seed: int = 7


@dataclass(frozen=True, slots=True)
class Pause:
    seconds: float


@dataclass(frozen=True, slots=True)
class WaitForAgent:
    """Wait until the agent has spoken and then been quiet for ``quiet_s``."""

    quiet_s: float = 0.4
    timeout_s: float = 15.0


@dataclass(frozen=True, slots=True)
class HangUp:
    pass


Step = Say | Noise | Pause | WaitForAgent | HangUp


def noise(ms: int, *, seed: int = 7) -> bytes:
    """Deterministic loud white noise (decodes to no text)."""
    rng = np.random.default_rng(seed)
    n = SAMPLE_RATE_HZ * ms // 1000
    return (rng.standard_normal(n) * 6000).clip(-32000, 32000).astype("<i2").tobytes()


async def play_script(caller: CallerEnd, script: Sequence[Step]) -> None:
    """Perform the caller's steps in order."""
    for step in script:
        if caller.agent_hung_up.is_set():
            return
        if isinstance(step, Say):
            await caller.say(marker.encode(step.text, ms_per_char=step.ms_per_char))
        elif isinstance(step, Noise):
            await caller.say(noise(step.ms, seed=step.seed))
        elif isinstance(step, Pause):
            await asyncio.sleep(step.seconds)
        elif isinstance(step, WaitForAgent):
            await caller.wait_agent_quiet(quiet_s=step.quiet_s, timeout_s=step.timeout_s)
        elif isinstance(step, HangUp):
            caller.hang_up()
            return


async def run_pipeline(
    config: SessionConfig,
    script: Sequence[Step],
    *,
    caller: CallerEnd | None = None,
    clock: MediaClock | None = None,
    timeout_s: float = 60.0,
) -> CallResult:
    """Run one call to its end: the session against ``script``. After the script the
    caller stays on the line (sending silence) until the agent hangs up or ``timeout_s``."""
    caller = caller or CallerEnd()
    session = CallSession(config=config, stream=caller.stream, clock=clock)
    async with caller.connected():
        async with asyncio.timeout(timeout_s):
            async with asyncio.TaskGroup() as tg:
                call = tg.create_task(session.run())
                script_task = tg.create_task(play_script(caller, script))
                result = await call
                script_task.cancel()
    return result
