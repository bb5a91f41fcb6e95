"""Assistants: create, read, archive, and the /public/agent form."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Agent, AgentVersion
from callwright.db.repositories import agents as repo
from callwright.db.types import utcnow
from callwright.db.unit_of_work import SessionFactory
from callwright.domain import voices
from callwright.domain.assistant import (
    AgentConfig,
    VersionSettings,
    prompt_from_public_fields,
    replace_variables,
    variables_for,
)
from callwright.domain.errors import InvalidRequest, NotFound
from callwright.domain.ids import new_id

PUBLIC_TEXT_FIELDS = (
    "introduction_and_objective",
    "response_guidelines",
    "task",
    "faq",
    "sample_conversations",
)


@dataclass(frozen=True, slots=True)
class AgentView:
    """An agent with all its versions, as read in one transaction."""

    agent: Agent
    versions: list[AgentVersion]

    @property
    def active(self) -> AgentVersion:
        return next(
            (v for v in self.versions if v.id == self.agent.active_version_id), self.versions[0]
        )


class VoiceLanguageMismatch(InvalidRequest):
    code = "VOICE_LANGUAGE_MISMATCH"


def check_voice(voice_id: str, language: str) -> voices.VoiceEntry:
    voice = voices.find(voice_id)
    if voice is None:
        raise InvalidRequest(
            f"Voice {voice_id!r} not found; see GET /agent/voices", code="VOICE_NOT_FOUND"
        )
    if language not in voice.languages:
        raise VoiceLanguageMismatch(f"Voice does not support language '{language}'")
    return voice


def parse_settings(data: dict[str, Any]) -> VersionSettings:
    try:
        return VersionSettings.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(_first_error(exc)) from exc


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else str(err["msg"])


async def create_public(uow: SessionFactory, workspace_id: str, form: dict[str, Any]) -> AgentView:
    """POST /public/agent: a single-prompt agent from the form fields."""
    agent_type = form.get("agent_type") or "outbound"
    voice = check_voice(form["voice_id"], form["primary_language"])
    fields = {k: form[k] for k in PUBLIC_TEXT_FIELDS if form.get(k)}
    settings = VersionSettings(
        language=form["primary_language"],
        voice_id=voice.id,
        secondary_language=form.get("secondary_language"),
        agent_config=AgentConfig(
            agent_prompt=prompt_from_public_fields(fields),
            intro_message=form["intro_message"],
            custom_variables=variables_for(agent_type, form.get("custom_variables") or []),
        ),
        public_fields=fields,
    )
    now = utcnow()
    agent = Agent(
        id=new_id(),
        workspace_id=workspace_id,
        display_name=form["agent_name"],
        agent_type=agent_type,
        webcall_public_key=secrets.token_urlsafe(24),
        created_at=now,
        updated_at=now,
    )
    version = AgentVersion(
        id=new_id(),
        agent_id=agent.id,
        workspace_id=workspace_id,
        slug="v1",
        settings=settings.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
    )
    agent.active_version_id = version.id
    async with uow.begin() as session:
        session.add(agent)
        await session.flush()
        session.add(version)
    return AgentView(agent, [version])


async def update_public(
    uow: SessionFactory, workspace_id: str, agent_id: str, form: dict[str, Any]
) -> AgentView:
    """PATCH /public/agent/{id}: change the given form fields of the active version."""
    async with uow.begin() as session:
        view = await load(session, workspace_id, agent_id)
        agent, version = view.agent, view.active
        settings = parse_settings(version.settings)
        agent_type = form.get("agent_type") or agent.agent_type
        language = form.get("primary_language") or settings.language
        if form.get("voice_id") or form.get("primary_language"):
            settings.voice_id = check_voice(
                form.get("voice_id") or settings.voice_id or "", language
            ).id
        settings.language = language
        if "secondary_language" in form:
            settings.secondary_language = form["secondary_language"]
        fields = dict(settings.public_fields)
        fields.update({k: form[k] for k in PUBLIC_TEXT_FIELDS if k in form and form[k] is not None})
        if fields != settings.public_fields:
            settings.public_fields = fields
            settings.agent_config.agent_prompt = prompt_from_public_fields(fields)
        if form.get("intro_message") is not None:
            settings.agent_config.intro_message = form["intro_message"]
        if form.get("custom_variables") is not None:
            settings.agent_config.custom_variables = replace_variables(
                agent_type, settings.agent_config.custom_variables, form["custom_variables"]
            )
        elif agent_type != agent.agent_type:
            settings.agent_config.custom_variables = variables_for(
                agent_type, settings.agent_config.custom_variables
            )
        if form.get("agent_name"):
            agent.display_name = form["agent_name"]
        agent.agent_type = agent_type
        save(agent, version, settings)
    return view


def save(agent: Agent, version: AgentVersion, settings: VersionSettings) -> None:
    now = utcnow()
    version.settings = settings.model_dump(mode="json")
    version.updated_at = now
    agent.updated_at = now


async def get(uow: SessionFactory, workspace_id: str, agent_id: str) -> AgentView:
    async with uow() as session:
        return await load(session, workspace_id, agent_id)


async def page(
    uow: SessionFactory, workspace_id: str, *, limit: int, offset: int
) -> list[AgentView]:
    async with uow() as session:
        agents = list(await repo.page(session, workspace_id, limit=limit, offset=offset))
        by_agent: dict[str, list[AgentVersion]] = {a.id: [] for a in agents}
        for version in await repo.versions_of(session, workspace_id, list(by_agent)):
            by_agent[version.agent_id].append(version)
    return [AgentView(a, by_agent[a.id]) for a in agents]


async def archive(uow: SessionFactory, workspace_id: str, agent_id: str) -> None:
    async with uow.begin() as session:
        agent = await repo.get(session, workspace_id, agent_id)
        if agent is None:
            raise NotFound("Agent not found")
        agent.is_archived = True
        agent.updated_at = utcnow()


async def load(session: AsyncSession, workspace_id: str, agent_id: str) -> AgentView:
    agent = await repo.get(session, workspace_id, agent_id)
    if agent is None:
        raise NotFound("Agent not found")
    versions = list(await repo.versions(session, workspace_id, agent_id))
    return AgentView(agent, versions)
