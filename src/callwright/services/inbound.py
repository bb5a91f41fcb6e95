"""Inbound phone calls: a number's inbound assistant answers calls to it.

A carrier's user agent (the ``sip`` provider's :meth:`SipTelephony.listen`) hands each
incoming call to :meth:`InboundCalls.handle`, which

1. finds the number (inbound-enabled, with an inbound assistant) — else rejects the call
   (``unavailable``: SIP 480);
2. admits it under the workspace's and the telephony account's concurrency caps (``busy``:
   486 when full) with credits locked for the longest call (``declined``: 603 when short);
   the Call row is created live (``dispatched_at`` set), direction ``inbound``, so it takes
   a slot like any outbound call;
3. answers, runs the assistant's :class:`CallSession` on the stream exactly as the
   :class:`Dialer` does (engines, session config, recorder, clock), then settles the call
   with the dialer's bookkeeping and queues its analysis.

As in Ringg, ``to_number`` is our number and ``from_number`` the caller.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.models import Call, PhoneNumber, TelephonyAccount, Workspace
from callwright.db.repositories import agents as agents_repo
from callwright.db.repositories import calls as calls_repo
from callwright.domain import credits
from callwright.domain.assistant import VersionSettings
from callwright.domain.call import CallStatus, SubStatus
from callwright.domain.ids import new_id
from callwright.domain.voices import DEFAULT_VOICE
from callwright.domain.voices import find as find_voice
from callwright.media.config import CallResult, EndReason
from callwright.media.session import CallSession
from callwright.providers.base import MediaStream, ProviderError
from callwright.services.capacity import LIVE, serialise_claims
from callwright.services.dialing import Dialer, analysis_job
from callwright.services.events import record_call_started
from callwright.services.session_config import session_config
from callwright.services.telephony import TelephonyDirectory

log = logging.getLogger(__name__)

INBOUND = "inbound"
Refusal = Literal["busy", "declined", "unavailable"]


class InboundCall(Protocol):
    """An incoming call as a carrier adapter presents it (see ``SipInboundCall``)."""

    provider_call_id: str
    from_number: str
    to_number: str

    async def answer(self) -> MediaStream:
        """Pick up; raises ProviderError if the caller has gone."""
        ...

    def reject(self, reason: Refusal) -> None: ...


@dataclass(frozen=True, slots=True)
class Admitted:
    call: Call
    settings: VersionSettings


@dataclass
class InboundCalls:
    dialer: Dialer  # its engines, recordings, clock, credits rate, events and bookkeeping
    workspace_default_cap: int = 10

    def handler(self, *, account_id: str | None = None) -> Callable[[InboundCall], Awaitable[None]]:
        """The callback for one telephony account's user agent (numbers of that account)."""

        async def handle(call: InboundCall) -> None:
            await self.handle(call, account_id=account_id)

        return handle

    async def listen(self, telephony: TelephonyDirectory) -> int:
        """Start answering on every live SIP account's user agent (at startup; call again
        after adding an account). Returns how many listen; an account whose socket cannot
        be opened is logged and skipped."""
        async with self.dialer.uow() as session:
            accounts = (
                await session.scalars(
                    select(TelephonyAccount).where(
                        TelephonyAccount.provider == "sip", TelephonyAccount.deleted_at.is_(None)
                    )
                )
            ).all()
        listening = 0
        for account in accounts:
            try:
                line = await telephony.for_account(account)
                listen = getattr(line, "listen", None)
                if listen is not None:
                    await listen(self.handler(account_id=account.id))
                    listening += 1
            except ProviderError as exc:
                log.error("cannot take inbound calls on account %s: %s", account.id, exc)
        return listening

    async def handle(self, call: InboundCall, *, account_id: str | None = None) -> None:
        admitted = await self.admit(
            to_number=call.to_number,
            from_number=call.from_number,
            provider_call_id=call.provider_call_id,
            account_id=account_id,
        )
        if not isinstance(admitted, Admitted):
            log.info("inbound call to %s refused: %s", call.to_number, admitted)
            call.reject(admitted)
            return
        try:
            stream = await call.answer()
        except ProviderError as exc:  # the caller hung up while we got ready
            await _settle_even_if_cancelled(
                self._finish(admitted, _failed(admitted.call, str(exc)))
            )
            return
        await self.converse(admitted, stream)

    async def admit(
        self,
        *,
        to_number: str,
        from_number: str,
        provider_call_id: str,
        account_id: str | None = None,
    ) -> Admitted | Refusal:
        """Create the live Call row for a call to ``to_number``, or say why not."""
        d = self.dialer
        async with d.uow.begin() as session:
            query = select(PhoneNumber).where(
                PhoneNumber.number == to_number,
                PhoneNumber.deleted_at.is_(None),
                PhoneNumber.is_inbound_enabled.is_(True),
                PhoneNumber.inbound_agent_id.is_not(None),
            )
            if account_id is not None:
                query = query.where(PhoneNumber.telephony_account_id == account_id)
            number = (await session.scalars(query.limit(1))).first()
            if number is None or number.inbound_agent_id is None:
                return "unavailable"
            found = await agents_repo.with_version(
                session, number.workspace_id, number.inbound_agent_id, None
            )
            agent, version = found if found is not None else (None, None)
            if agent is None or version is None:
                return "unavailable"
            settings = VersionSettings.model_validate(version.settings)
            await serialise_claims(session)
            if not await self._has_room(session, number):
                return "busy"
            config = settings.call_config.model_dump(mode="json")
            locked = credits.estimate(
                int(config["max_call_length"]), credits_per_minute=d.credits_per_minute
            )
            if not await calls_repo.lock_credits(session, number.workspace_id, locked):
                return "declined"
            now = d.now()
            call = Call(
                id=new_id(),
                workspace_id=number.workspace_id,
                agent_id=agent.id,
                agent_version_id=version.id,
                direction=INBOUND,
                status=CallStatus.ONGOING,
                sub_status=SubStatus.ACCEPTED,
                to_number=to_number,
                from_number=from_number,
                from_numbers=[from_number],
                telephony_account_id=number.telephony_account_id,
                callee_name="",
                custom_args_values={},
                call_config=config,
                due_at=now,
                dispatched_at=now,  # live from the start: it takes a concurrency slot
                created_at=now,
                initiated_at=now,
                answered_at=now,
                provider_call_id=provider_call_id[:100],
                locked_credits=locked,
            )
            session.add(call)
            number.call_count = (number.call_count or 0) + 1
            await record_call_started(session, call)
        if d.events is not None:
            d.events.wake()
        return Admitted(call, settings)

    async def _has_room(self, session: AsyncSession, number: PhoneNumber) -> bool:
        live = (Call.status.in_(LIVE)) & Call.dispatched_at.is_not(None)
        ws_cap = await session.scalar(
            select(Workspace.max_concurrent_calls).where(Workspace.id == number.workspace_id)
        )
        ws_live = await session.scalar(
            select(func.count())
            .select_from(Call)
            .where(live, Call.workspace_id == number.workspace_id)
        )
        if int(ws_live or 0) >= (ws_cap or self.workspace_default_cap):
            return False
        acc_cap = await session.scalar(
            select(TelephonyAccount.max_concurrent_calls).where(
                TelephonyAccount.id == number.telephony_account_id
            )
        )
        if not acc_cap:
            return True
        acc_live = await session.scalar(
            select(func.count())
            .select_from(Call)
            .where(live, Call.telephony_account_id == number.telephony_account_id)
        )
        return int(acc_live or 0) < acc_cap

    async def converse(self, admitted: Admitted, stream: MediaStream) -> CallResult:
        """Run the assistant on ``stream`` until either side hangs up; settle; analyse."""
        d, call, settings = self.dialer, admitted.call, admitted.settings
        voice = find_voice(call.voice_id or settings.voice_id or "") or DEFAULT_VOICE
        path = d.recordings.path_for(call.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            engines = await d.engines.for_call(settings, voice)
            knowledge = d.knowledge.for_call(call.workspace_id, settings) if d.knowledge else None
            config = session_config(
                call, settings, engines, recording_path=path, knowledge=knowledge
            )
            result = await CallSession(config=config, stream=stream, clock=d.clock).run()
        except ProviderError as exc:
            log.warning("engines failed for inbound call %s: %s", call.id, exc)
            result = _failed(call, str(exc))
        finally:
            await stream.hangup()
        await _settle_even_if_cancelled(self._finish(admitted, result))
        return result

    async def abandon(self, admitted: Admitted, reason: str) -> None:
        """Settle an admitted call whose audio never arrived (the carrier never connected it)."""
        await _settle_even_if_cancelled(self._finish(admitted, _failed(admitted.call, reason)))

    async def _finish(self, admitted: Admitted, result: CallResult) -> None:
        d = self.dialer
        await d.finish_answered(admitted.call, result, voicemail=False)
        await d.enqueue(analysis_job(admitted.call))


async def _settle_even_if_cancelled(settle: Coroutine[Any, Any, None]) -> None:
    """Run ``settle`` to its end even if we are cancelled meanwhile (shutdown), then let the
    cancellation through: whoever cancelled us waits for the call to be settled."""
    task = asyncio.ensure_future(settle)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def _failed(call: Call, error: str) -> CallResult:
    return CallResult(
        call_id=call.id,
        end_reason=EndReason.ERROR,
        duration_s=0.0,
        transcript=(),
        turn_latencies=(),
        error=error,
    )
