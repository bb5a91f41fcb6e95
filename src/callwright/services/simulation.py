"""`callwright simulate`: one call from a stored assistant to a simulated callee, not billed
and not kept in history, for trying an assistant out. Like a real call it answers from the
assistant's attached knowledge bases."""

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
from callwright.knowledge.retriever import Retriever
from callwright.providers import registry
from callwright.providers.base import EngineSpec
from callwright.providers.telephony.sim import SimTelephony
from callwright.services.engines import EngineSource
from callwright.services.knowledge import attached_knowledge
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
    knowledge: Retriever | None = None,
    telephony: SimTelephony | None = None,
) -> Simulation:
    """``knowledge``: searches the assistant's attached knowledge bases (None: replies are not
    grounded). ``telephony``: the sim network to call on, owned by the caller; by default
    one with the registry's persona engines, logging under ``data_dir/sim``."""
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
        workspace_id=agent.workspace_id,
        custom_args_values=variables,
        call_config=settings.call_config.model_dump(mode="json"),
    )
    voice = find_voice(settings.voice_id or "") or DEFAULT_VOICE
    built = await engines.for_call(settings, voice)
    lookup = attached_knowledge(knowledge, agent.workspace_id, settings) if knowledge else None
    config = session_config(call, settings, built, recording_path=None, knowledge=lookup)
    network = telephony if telephony is not None else await _sim_network(data_dir)
    try:
        report = await run_sim_call(
            session_config=config,
            telephony=network,
            to_number=to_number,
            from_number="+15550100000",
            variables=variables,
            persona=persona,
        )
    finally:
        if telephony is None:
            await network.aclose()
    return Simulation(agent.display_name, report)


async def _sim_network(data_dir: Path) -> SimTelephony:
    """The sim network with the configured persona engines (loaded in a thread)."""
    spec = EngineSpec("sim", {"log_dir": str(data_dir / "sim")})
    network: SimTelephony = await asyncio.to_thread(registry.create, "telephony", spec)
    return network
