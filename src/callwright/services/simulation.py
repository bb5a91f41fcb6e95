"""`callwright simulate`: one call from a stored assistant to a simulated callee, not billed
and not kept in history, for trying an assistant out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from callwright.db.models import Agent, AgentVersion, Call
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.assistant import VersionSettings
from callwright.domain.errors import NotFound
from callwright.domain.voices import DEFAULT_VOICE
from callwright.domain.voices import find as find_voice
from callwright.providers import registry
from callwright.providers.base import EngineSpec
from callwright.providers.telephony.sim import SimTelephony
from callwright.services.engines import EngineSource
from callwright.services.session_config import session_config
from callwright.sim.run import SimCallReport, run_sim_call


@dataclass(frozen=True, slots=True)
class Simulation:
    agent_name: str
    report: SimCallReport


async def simulate(
    uow: SessionFactory,
    engines: EngineSource,
    *,
    agent_id: str,
    to_number: str,
    persona: str | None,
    data_dir: Path,
    callee_name: str = "Alex",
) -> Simulation:
    async with uow() as session:
        agent = await session.scalar(
            select(Agent).where(Agent.id == agent_id, Agent.is_archived.is_(False))
        )
        if agent is None:
            raise NotFound(f"No assistant with id {agent_id}")
        version = await session.get(AgentVersion, agent.active_version_id)
    assert version is not None
    settings = VersionSettings.model_validate(version.settings)
    variables = {"callee_name": callee_name, "mobile_number": to_number}
    call = Call(
        id="simulation",
        custom_args_values=variables,
        call_config=settings.call_config.model_dump(mode="json"),
    )
    voice = find_voice(settings.voice_id or "") or DEFAULT_VOICE
    built = await engines.for_call(settings, voice)
    config = session_config(call, settings, built, recording_path=None)
    telephony: SimTelephony = await asyncio.to_thread(
        registry.create, "telephony", EngineSpec("sim", {"log_dir": str(data_dir / "sim")})
    )
    try:
        report = await run_sim_call(
            session_config=config,
            telephony=telephony,
            to_number=to_number,
            from_number="+15550100000",
            variables=variables,
            persona=persona,
        )
    finally:
        await telephony.aclose()
    return Simulation(agent.display_name, report)
