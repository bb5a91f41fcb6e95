"""Deleting a saved contact list.

A campaign reads its list's rows only when it starts (services/campaign_start.py writes one
call per row), so deleting a list that a campaign made by /campaign/from-list has not
started on would leave that campaign nothing to call. Such a delete is refused until the
campaign has started or been terminated; once started, its calls carry their own copy of
each contact and the list may go.

An upload is itself a draft campaign sharing the list's id (Ringg's ``bulk_list_id``):
deleting that list is what its owner asks for, so that campaign does not hold the list.
"""

from __future__ import annotations

from sqlalchemy import select

from callwright.db.models_campaigns import Campaign
from callwright.db.repositories import contacts as contacts_repo
from callwright.db.unit_of_work import SessionFactory
from callwright.domain.campaign import AWAITING_START
from callwright.domain.errors import Conflict, NotFound


async def delete(uow: SessionFactory, workspace_id: str, list_id: str) -> None:
    """Soft-delete the list, removing its contacts. NotFound: no such live list; Conflict:
    a campaign made from it by /campaign/from-list has not started."""
    async with uow.begin() as session:
        # Locked first, as /campaign/from-list locks it: a campaign made from the list
        # concurrently has either committed (and is seen below) or will find it deleted.
        if await contacts_repo.get_list(session, workspace_id, list_id, for_update=True) is None:
            raise NotFound("Contact list not found")
        waiting = (
            await session.scalars(
                select(Campaign.name)
                .where(
                    Campaign.workspace_id == workspace_id,
                    Campaign.list_id == list_id,
                    Campaign.id != list_id,
                    Campaign.status.in_(AWAITING_START),
                )
                .order_by(Campaign.created_at, Campaign.id)
            )
        ).all()
        if waiting:
            names = ", ".join(repr(n) for n in waiting[:3]) + (", ..." if len(waiting) > 3 else "")
            raise Conflict(
                f"The list is used by {len(waiting)} campaign(s) not started yet ({names}); "
                "start them, or terminate them (PATCH /campaign/terminate), then delete the list"
            )
        await contacts_repo.delete_list(session, workspace_id, list_id)
