"""Assistants: /agent/*, /public/agent and PATCH /agent/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from callwright.api.deps import ContainerDep, PageDep, WorkspaceId
from callwright.api.schemas.agents import (
    AgentDetail,
    AgentDetailResponse,
    AgentEdit,
    AgentEditResponse,
    AgentList,
    AgentListResponse,
    AgentRow,
    PublicAgentCreate,
    PublicAgentCreated,
    PublicAgentCreateResponse,
    PublicAgentUpdate,
    PublicAgentUpdated,
    PublicAgentUpdateResponse,
    VoiceOut,
    VoicesResponse,
)
from callwright.api.schemas.common import ERRORS, Message, iso
from callwright.domain.errors import NotFound
from callwright.services import agent_edits, agents, voices

router = APIRouter(tags=["Assistants"], responses=ERRORS)
# A fixed date: catalogue voices come with the installed engines, not from a database row.
_VOICE_DATE = "2026-01-01T00:00:00.000000+00:00"


@router.get("/agent/all", response_model=AgentListResponse, summary="List assistants")
async def list_agents(
    c: ContainerDep, workspace_id: WorkspaceId, page: PageDep
) -> AgentListResponse:
    views = await agents.page(c.uow, workspace_id, limit=page.limit, offset=page.offset)
    return AgentListResponse(
        status="success", data=AgentList(agents=[AgentRow.of(v) for v in views])
    )


@router.get("/agent/voices", response_model=VoicesResponse, summary="Voice catalogue")
async def list_voices(
    request: Request,
    c: ContainerDep,
    _: WorkspaceId,
    language: Annotated[
        str | None, Query(max_length=200, description="Comma-separated locales, e.g. en-US,hi-IN")
    ] = None,
) -> VoicesResponse:
    wanted = [part.strip() for part in (language or "").split(",") if part.strip()]
    return VoicesResponse(
        voices=[
            VoiceOut(
                id=v.id,
                name=v.name,
                languages=list(v.languages),
                voice_previews={
                    lang: str(
                        request.url_for("voice_preview", voice_id=v.id).include_query_params(
                            language=lang
                        )
                    )
                    for lang in v.languages
                },
                image_url=None,
                gender=v.gender,
                tts_provider=v.provider,
                created_at=_VOICE_DATE,
                updated_at=_VOICE_DATE,
            )
            for v in voices.matching(c.voices, wanted)
        ]
    )


@router.get(
    "/agent/voices/{voice_id}/preview",
    name="voice_preview",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}, "description": "A WAV sample of the voice"}},
    summary="Hear a voice (callwright)",
    description="Public, so an <audio> element can play it: voices are not workspace data.",
)
async def voice_preview(
    c: ContainerDep,
    voice_id: str,
    language: Annotated[str, Query(max_length=10)] = "en-US",
) -> Response:
    voice = next((v for v in c.voices if v.id == voice_id), None)
    if voice is None:
        raise NotFound("Voice not found")
    wav = await c.voice_previews.wav(voice, language)
    return Response(wav, media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/agent/{agent_id}", response_model=AgentDetailResponse, summary="Assistant detail")
async def get_agent(
    c: ContainerDep, workspace_id: WorkspaceId, agent_id: str
) -> AgentDetailResponse:
    view = await agents.get(c.uow, workspace_id, agent_id)
    return AgentDetailResponse(agents=AgentDetail.of(view))


@router.delete("/agent/{agent_id}", response_model=Message, summary="Archive an assistant")
async def delete_agent(c: ContainerDep, workspace_id: WorkspaceId, agent_id: str) -> Message:
    await agents.archive(c.uow, workspace_id, agent_id)
    return Message(message="Agent deleted successfully!")


@router.patch("/agent/v1", response_model=AgentEditResponse, summary="Edit an assistant")
async def edit_agent(
    c: ContainerDep, workspace_id: WorkspaceId, body: AgentEdit
) -> AgentEditResponse:
    result = await agent_edits.edit(c.uow, workspace_id, body.model_dump(exclude_unset=True))
    return AgentEditResponse(**result)


@router.post(
    "/public/agent", response_model=PublicAgentCreateResponse, summary="Create an assistant"
)
async def create_public_agent(
    c: ContainerDep, workspace_id: WorkspaceId, body: PublicAgentCreate
) -> PublicAgentCreateResponse:
    view = await agents.create_public(c.uow, workspace_id, body.model_dump())
    return PublicAgentCreateResponse(
        success=True,
        data=PublicAgentCreated(
            id=view.agent.id, version=view.active.slug, created_at=iso(view.agent.created_at)
        ),
        message="Agent created successfully",
    )


@router.patch(
    "/public/agent/{agent_id}",
    response_model=PublicAgentUpdateResponse,
    summary="Update an assistant",
)
async def update_public_agent(
    c: ContainerDep, workspace_id: WorkspaceId, agent_id: str, body: PublicAgentUpdate
) -> PublicAgentUpdateResponse:
    view = await agents.update_public(
        c.uow, workspace_id, agent_id, body.model_dump(exclude_unset=True)
    )
    return PublicAgentUpdateResponse(
        success=True,
        data=PublicAgentUpdated(
            id=view.agent.id, version=view.active.slug, updated_at=iso(view.agent.updated_at)
        ),
        message="Agent updated successfully",
    )
