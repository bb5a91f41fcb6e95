"""The built-in simulated phone network (``sim``): numbers are answered by simulated callees.

Dialing records the call in the network's append-only log, rings for ``ring_delay_ms`` and
then, by the callee number's last four digits:

- ``0001`` busy (``DialOutcome.BUSY``, "busy line")
- ``0002`` never answers (``NO_ANSWER`` after the request's ``ring_timeout_s``, "no answer")
- ``0003`` a voicemail greeting, a beep, then silence until hung up
- ``0004`` answers, then hangs up as soon as the agent's greeting ends
- ``0005`` answers and stays silent
- anything else: a simulated callee persona — ``variables["persona"]`` (a catalogue name or
  a short description, see :mod:`callwright.sim.personas`) or the cooperative default;
  the persona names ``busy`` and ``no_answer`` give those outcomes on any number.

Answered calls return a :class:`MediaStream` whose audio really crosses a G.711 μ-law line
(:mod:`callwright.sim.line`); the callee listens with VAD + STT and speaks with TTS.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from callwright.providers import registry
from callwright.providers.base import DialOutcome, DialRequest, DialResult, EngineSpec
from callwright.sim.line import SimLine
from callwright.sim.network import SimNetwork
from callwright.sim.persona import Persona, PersonaEngines
from callwright.sim.personas import CATALOGUE, PersonaSpec, callee_name, resolve_persona
from callwright.sim.report import PersonaReport

log = logging.getLogger(__name__)

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
BUSY_DETAIL = "busy line"
NO_ANSWER_DETAIL = "no answer"
# Reserved numbers answered by a fixed behaviour, whatever persona the call asked for.
RESERVED_PERSONAS: dict[str, str] = {
    "0003": "voicemail",
    "0004": "hangs_up_after_greeting",
    "0005": "silent",
}

# Builds one call's callee engines; the argument is the callee's own name (a person
# recognises their own name: engines that take a vocabulary hint should get it).
KEEP_FINISHED_CALLS = 100  # finished calls whose callee report stays readable

PersonaEngineFactory = Callable[[str], Awaitable[PersonaEngines]]


class EngineChoice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    options: dict[str, Any] = Field(default_factory=dict)


class SimTelephonyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    log_dir: Path | None = None  # None: $CALLWRIGHT_DATA_DIR/sim
    ring_delay_ms: int = Field(default=300, ge=0, le=60_000)
    persona_vad: EngineChoice = EngineChoice(name="silero")
    persona_stt: EngineChoice = EngineChoice(name="whisper")
    persona_tts: EngineChoice = EngineChoice(name="piper")
    persona_endpoint_silence_ms: int = Field(default=700, ge=100, le=5_000)


@dataclass(frozen=True, slots=True)
class _SimCall:
    line: SimLine
    persona: asyncio.Task[PersonaReport]


class SimTelephony:
    """A ``Telephony`` on the simulated network. Owns its callees' tasks: :meth:`aclose`
    hangs up every open call and waits for them."""

    def __init__(
        self,
        *,
        network: SimNetwork,
        engines: PersonaEngineFactory,
        ring_delay_s: float = 0.3,
        endpoint_silence_ms: int = 700,
    ) -> None:
        self.network = network
        self._engines = engines
        self._ring_delay_s = ring_delay_s
        self._endpoint_silence_ms = endpoint_silence_ms
        self._calls: dict[str, _SimCall] = {}

    async def dial(self, request: DialRequest) -> DialResult:
        self._forget_old_calls()
        provider_call_id = f"sim-{uuid.uuid4().hex[:20]}"
        await self.network.record_dial(
            provider_call_id=provider_call_id,
            call_id=request.call_id,
            from_number=request.from_number,
            to_number=request.to_number,
        )
        try:
            return await self._connect(provider_call_id, request)
        except BaseException as exc:
            if provider_call_id not in self._calls:  # never connected: release the line
                detail = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
                await asyncio.shield(
                    self.network.record_failure(provider_call_id, DialOutcome.FAILED, detail)
                )
            raise

    async def _connect(self, provider_call_id: str, request: DialRequest) -> DialResult:
        if not _E164.match(request.to_number):
            return await self._fail(provider_call_id, DialOutcome.FAILED, "invalid number")
        suffix = request.to_number[-4:]
        asked = (request.variables.get("persona") or "").strip().lower().replace(" ", "_")
        if suffix == "0001" or asked == "busy":
            await asyncio.sleep(min(self._ring_delay_s, request.ring_timeout_s))
            return await self._fail(provider_call_id, DialOutcome.BUSY, BUSY_DETAIL)
        if suffix == "0002" or asked == "no_answer" or self._ring_delay_s > request.ring_timeout_s:
            await asyncio.sleep(request.ring_timeout_s)
            return await self._fail(provider_call_id, DialOutcome.NO_ANSWER, NO_ANSWER_DETAIL)
        spec = _persona_for(suffix, request.variables)
        # Load the callee's engines while the phone rings.
        name = callee_name(spec, request.variables)
        engines, _ = await asyncio.gather(self._engines(name), asyncio.sleep(self._ring_delay_s))

        async def on_hangup(by: str) -> None:
            await self.network.record_hangup(provider_call_id, by=by)

        line = SimLine(on_hangup=on_hangup)
        await self.network.record_answer(provider_call_id)
        persona = Persona(
            spec=spec,
            engines=engines,
            handset=line.handset,
            variables=request.variables,
            endpoint_silence_ms=self._endpoint_silence_ms,
        )
        task = asyncio.create_task(_act(persona, line), name=f"sim-callee-{provider_call_id}")
        self._calls[provider_call_id] = _SimCall(line=line, persona=task)
        return DialResult(DialOutcome.ANSWERED, provider_call_id, stream=line.agent)

    async def _fail(self, provider_call_id: str, outcome: DialOutcome, detail: str) -> DialResult:
        await self.network.record_failure(provider_call_id, outcome, detail)
        return DialResult(outcome, provider_call_id, detail=detail)

    def _forget_old_calls(self) -> None:
        """Keep the reports of the last ``KEEP_FINISHED_CALLS`` ended calls, not all of them."""
        finished = [key for key, call in self._calls.items() if call.persona.done()]
        for key in finished[: max(0, len(finished) - KEEP_FINISHED_CALLS)]:
            del self._calls[key]

    def line(self, provider_call_id: str) -> SimLine:
        """The line of an answered call (tests read ``clear_times_mono`` and ``hung_up_by``)."""
        return self._calls[provider_call_id].line

    async def persona_report(self, provider_call_id: str) -> PersonaReport:
        """Wait until the callee of an answered call is done (the line closed), then return
        what it heard and said."""
        return await asyncio.shield(self._calls[provider_call_id].persona)

    async def aclose(self) -> None:
        """Hang up every open call and wait for the callees to finish."""
        for call in self._calls.values():
            await call.line.close(by="network")
        await asyncio.gather(*(c.persona for c in self._calls.values()), return_exceptions=True)


async def _act(persona: Persona, line: SimLine) -> PersonaReport:
    try:
        return await persona.run()
    except Exception:
        log.exception("simulated callee failed; hanging up")
        raise
    finally:
        await line.close(by="callee")  # no-op when the line is already closed


def _persona_for(suffix: str, variables: dict[str, str]) -> PersonaSpec:
    reserved = RESERVED_PERSONAS.get(suffix)
    if reserved is not None:
        return CATALOGUE[reserved]
    return resolve_persona(variables.get("persona"))


def engines_from_registry(
    *, vad: EngineChoice, stt: EngineChoice, tts: EngineChoice
) -> PersonaEngineFactory:
    """Build each call's callee engines through the provider registry (models load once per
    process, in a worker thread so the event loop keeps ticking). Whisper gets the callee's
    name as its vocabulary hint unless the options set one."""

    def build(name: str) -> PersonaEngines:
        stt_options = dict(stt.options)
        if stt.name == "whisper":
            stt_options.setdefault("vocabulary_hint", f"{name}.")
        return PersonaEngines(
            vad=registry.create("vad", EngineSpec(vad.name, dict(vad.options))),
            stt=registry.create("stt", EngineSpec(stt.name, stt_options)),
            tts=registry.create("tts", EngineSpec(tts.name, dict(tts.options))),
        )

    async def factory(name: str) -> PersonaEngines:
        return await asyncio.to_thread(build, name)

    return factory


class SimProvider:
    name = "sim"
    kind = "telephony"
    extra = "engines"

    def config_model(self) -> type[BaseModel]:
        return SimTelephonyConfig

    def create(self, config: BaseModel) -> SimTelephony:
        assert isinstance(config, SimTelephonyConfig)
        return SimTelephony(
            network=SimNetwork(log_dir=config.log_dir),
            engines=engines_from_registry(
                vad=config.persona_vad, stt=config.persona_stt, tts=config.persona_tts
            ),
            ring_delay_s=config.ring_delay_ms / 1000,
            endpoint_silence_ms=config.persona_endpoint_silence_ms,
        )


PROVIDER = SimProvider()
