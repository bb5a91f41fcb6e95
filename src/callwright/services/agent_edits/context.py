"""What every PATCH /agent/v1 operation works with: the loaded agent, the version it edits,
and the table of operations by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Agent, AgentVersion
from callwright.domain.assistant import (
    AgentConfig,
    VersionSettings,
)
from callwright.domain.errors import InvalidRequest, NotFound
from callwright.services.agents import AgentView

MAX_VERSIONS = 5
MAX_LABELS = 10


@dataclass
class EditContext:
    session: AsyncSession
    workspace_id: str
    view: AgentView
    version: AgentVersion
    settings: VersionSettings
    body: dict[str, Any]

    @property
    def agent(self) -> Agent:
        return self.view.agent

    def field(self, name: str) -> Any:
        if self.body.get(name) is None:
            raise InvalidRequest(f"'{name}' is required for operation '{self.body['operation']}'")
        return self.body[name]


Handler = Callable[[EditContext], Awaitable[dict[str, Any] | None]]
OPERATIONS: dict[str, Handler] = {}


def operation(*names: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for name in names:
            OPERATIONS[name] = handler
        return handler

    return register


def pick_version(view: AgentView, version_id: Any) -> AgentVersion:
    if version_id is None:
        return view.active
    for version in view.versions:
        if version.id == version_id:
            return version
    raise NotFound("Version not found")


def validated(model: Any, value: Any, what: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InvalidRequest(f"Invalid {what}: {where} {err['msg']}".strip()) from exc


def set_agent_config(ctx: EditContext, **changes: Any) -> None:
    merged = {**ctx.settings.agent_config.model_dump(mode="json"), **changes}
    ctx.settings.agent_config = validated(AgentConfig, merged, "agent config")


def set_settings(ctx: EditContext, **changes: Any) -> None:
    merged = {**ctx.settings.model_dump(mode="json"), **changes}
    ctx.settings = validated(VersionSettings, merged, "settings")
