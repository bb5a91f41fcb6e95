"""Our webhook management API: endpoints, delivery log, test sends and replays.

Endpoints come from the assistants' ``event_subscriptions`` (PATCH /agent/v1,
``edit_event_subscriptions``); these routes show them with their signing secret (once),
re-enable or remove them, and show and replay what was sent. Everything is workspace
scoped: another workspace's ids answer 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from callwright.api.deps import ContainerDep, PageDep, WorkspaceId
from callwright.api.schemas.common import ERRORS
from callwright.api.schemas.webhooks import (
    Delivery,
    DeliveryList,
    Endpoint,
    EndpointList,
    Replayed,
)
from callwright.domain.errors import InvalidRequest
from callwright.services import webhook_admin as admin

router = APIRouter(prefix="/webhooks", tags=["Webhooks"], responses=ERRORS)
Id = Annotated[str, Query(max_length=64)]


@router.get("/endpoints", response_model=EndpointList, summary="An assistant's webhook endpoints")
async def list_endpoints(c: ContainerDep, workspace_id: WorkspaceId, agent_id: Id) -> EndpointList:
    views = await admin.list_endpoints(c.uow, workspace_id, agent_id)
    return EndpointList(endpoints=[Endpoint.of(v) for v in views])


@router.get("/endpoints/{endpoint_id}", response_model=Endpoint, summary="One endpoint")
async def get_endpoint(c: ContainerDep, workspace_id: WorkspaceId, endpoint_id: str) -> Endpoint:
    e = await admin.get_endpoint(c.uow, workspace_id, endpoint_id)
    return Endpoint.of(admin.EndpointView(e, None))


@router.post("/endpoints/{endpoint_id}/enable", response_model=Endpoint, summary="Re-enable")
async def enable(c: ContainerDep, workspace_id: WorkspaceId, endpoint_id: str) -> Endpoint:
    e = await admin.enable_endpoint(c.uow, workspace_id, endpoint_id)
    return Endpoint.of(admin.EndpointView(e, None))


@router.delete(
    "/endpoints/{endpoint_id}",
    status_code=204,
    response_class=Response,
    summary="Unsubscribe the URL from the assistant's active version",
)
async def delete(c: ContainerDep, workspace_id: WorkspaceId, endpoint_id: str) -> Response:
    await admin.delete_endpoint(c.uow, workspace_id, endpoint_id)
    return Response(status_code=204)


@router.post(
    "/endpoints/{endpoint_id}/test", response_model=Delivery, summary="Send a signed test event"
)
async def test(c: ContainerDep, workspace_id: WorkspaceId, endpoint_id: str) -> Delivery:
    return Delivery.of(await admin.send_test(c.webhooks, workspace_id, endpoint_id))


@router.get(
    "/endpoints/{endpoint_id}/deliveries",
    response_model=DeliveryList,
    summary="Delivery log, newest first",
)
async def deliveries(
    c: ContainerDep, workspace_id: WorkspaceId, endpoint_id: str, page: PageDep
) -> DeliveryList:
    views = await admin.delivery_log(
        c.uow, workspace_id, endpoint_id, limit=page.limit, offset=page.offset
    )
    return DeliveryList(
        deliveries=[Delivery.of(v) for v in views], limit=page.limit, offset=page.offset
    )


@router.post(
    "/deliveries/{delivery_id}/replay", response_model=Replayed, summary="Send one event again"
)
async def replay(c: ContainerDep, workspace_id: WorkspaceId, delivery_id: str) -> Replayed:
    new = await admin.replay_delivery(c.uow, workspace_id, delivery_id)
    c.webhook_relay.wake()
    return Replayed(queued=1, delivery_ids=[new])


@router.post(
    "/endpoints/{endpoint_id}/replay",
    response_model=Replayed,
    summary="Send again every event since a time (by default: only undelivered ones)",
)
async def replay_since(
    c: ContainerDep,
    workspace_id: WorkspaceId,
    endpoint_id: str,
    since: Annotated[str, Query(max_length=40, description="ISO 8601 with offset")],
    only_failed: bool = True,
) -> Replayed:
    try:
        when = datetime.fromisoformat(since.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest("Invalid date format for since.", code="invalid_parameter") from exc
    if when.tzinfo is None:
        raise InvalidRequest("since needs a time zone offset", code="invalid_parameter")
    n = await admin.replay_since(c.uow, workspace_id, endpoint_id, when, only_failed=only_failed)
    c.webhook_relay.wake()
    return Replayed(queued=n)
