"""Placing outbound calls: validate, resolve the caller number, lock credits, queue the dial."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from callwright.db.batch_writer import batch_writer
from callwright.db.models import (
    Agent,
    AgentVersion,
    Call,
    IdempotencyKey,
    PhoneNumber,
    TelephonyAccount,
)
from callwright.db.repositories import agents as agents_repo
from callwright.db.repositories import calls as repo
from callwright.db.unit_of_work import SessionFactory
from callwright.domain import credits, names
from callwright.domain.assistant import CallConfig, VersionSettings, deep_merge
from callwright.domain.call import CallStatus, SubStatus
from callwright.domain.calling_window import next_allowed, parse_scheduled_at, zone
from callwright.domain.errors import Conflict, InsufficientCredits, InvalidRequest, NotFound
from callwright.domain.ids import new_id
from callwright.domain.phone import normalize_e164
from callwright.domain.voices import find as find_voice
from callwright.jobs.port import JobSpec
from callwright.services.events import record_call_started
from callwright.services.lookup_cache import AgentVersionInfo, CallerNumber, lookups

CALL_JOB = "call"
CALL_QUEUE = "calls"


def call_job(
    call_id: str,
    workspace_id: str,
    *,
    attempt: int,
    dispatch: int,
    campaign_id: str | None = None,
) -> JobSpec:
    """The durable job that dials a call (attempt 0 is the first dial, then retries) once the
    dispatcher (or ``campaign_id``'s pacer) handed it over for the ``dispatch``-th time."""
    return JobSpec(
        kind=CALL_JOB,
        key=f"call:{call_id}:{dispatch}",
        payload={
            "call_id": call_id,
            "workspace_id": workspace_id,
            "attempt": attempt,
            "dispatch": dispatch,
            "campaign_id": campaign_id,
        },
        queue=CALL_QUEUE,
    )


@dataclass(frozen=True, slots=True)
class CallRequest:
    agent_id: str
    name: str
    mobile_number: str
    from_number_ids: tuple[str, ...] = ()
    from_numbers: tuple[str, ...] = ()
    number_pool_id: str | None = None
    custom_args_values: dict[str, Any] = field(default_factory=dict)
    call_config: dict[str, Any] = field(default_factory=dict)
    smart_formatter: dict[str, Any] = field(default_factory=dict)
    version_id: str | None = None
    voice_id: str | None = None
    call_category: str | None = None
    parent_call_id: str | None = None
    scheduled_at: str | None = None


@dataclass(frozen=True, slots=True)
class Idempotency:
    key: str
    request_hash: str

    @staticmethod
    def of(key: str, body: bytes) -> Idempotency:
        return Idempotency(key, hashlib.sha256(body).hexdigest())


@dataclass(frozen=True, slots=True)
class Placed:
    response: dict[str, Any]
    replayed: bool


Render = Callable[[Call], dict[str, Any]]


async def place(
    uow: SessionFactory,
    workspace_id: str,
    request: CallRequest,
    *,
    on_created: Callable[[], None],
    render: Render,
    credits_per_minute: float,
    idempotency: Idempotency | None = None,
    now: datetime | None = None,
) -> Placed:
    """Create the call in ``registered``; the dispatcher queues its dial once it is due.
    With an idempotency key, a repeat returns the first response and places nothing (the key
    commits with the call).

    The reads (agent, version, caller numbers) come first, mostly from the short-lived
    lookup cache; the writes (credits, call, call_started event, idempotency key) then
    share a transaction with the other calls placed at the same moment (group commit)."""
    now = now or datetime.now(UTC)
    if idempotency is not None:
        earlier = await _replay(uow, workspace_id, idempotency)
        if earlier is not None:
            return earlier
    values = await _build(uow, workspace_id, request, now=now)
    values["locked_credits"] = credits.estimate(
        int(values["call_config"]["max_call_length"]), credits_per_minute=credits_per_minute
    )
    response = render(Call(**values))

    async def write(session: AsyncSession) -> None:
        if not await repo.reserve_credits(session, workspace_id, values["locked_credits"]):
            raise InsufficientCredits("Insufficient credits to place this call")
        call = Call(**values)  # afresh: a batch that failed runs each write again alone
        session.add(call)
        await _pin_agent(session, call)
        await record_call_started(session, call)  # commits with the call, or not at all
        if idempotency is not None:
            session.add(
                IdempotencyKey(
                    workspace_id=workspace_id,
                    key=idempotency.key,
                    request_hash=idempotency.request_hash,
                    status_code=200,
                    response=response,
                )
            )

    try:
        await batch_writer(uow).submit(write)
    except IntegrityError:
        # Another request with the same key committed first: answer as it did.
        if idempotency is None:
            raise
        earlier = await _replay(uow, workspace_id, idempotency)
        if earlier is None:
            raise
        return earlier
    on_created()  # the dispatcher queues the dial when due; the relay sends call_started
    return Placed(response, replayed=False)


_PINNED = "calls.pinned"


async def _pin_agent(session: AsyncSession, call: Call) -> None:
    """Hold the call's agent and version in the session for the rest of the transaction.
    The session's identity map keeps objects only while something references them, so
    without this each call of a batch would load them again for its call_started event."""
    pinned: dict[tuple[type[Any], str], object] = session.info.setdefault(_PINNED, {})
    for model, key in ((Agent, call.agent_id), (AgentVersion, call.agent_version_id)):
        if (model, key) not in pinned:
            pinned[(model, key)] = await session.get(model, key)


async def _replay(uow: SessionFactory, workspace_id: str, idem: Idempotency) -> Placed | None:
    async with uow() as session:
        row = await repo.idempotent_response(session, workspace_id, idem.key)
    if row is None:
        return None
    if row.request_hash != idem.request_hash:
        raise Conflict("Idempotency-Key was already used with a different request")
    return Placed(row.response, replayed=True)


async def _build(
    uow: SessionFactory, workspace_id: str, req: CallRequest, *, now: datetime
) -> dict[str, Any]:
    """The new call's column values, or the 4xx that stops it."""
    async with uow() as session:
        found = await _agent_version(session, workspace_id, req.agent_id, req.version_id)
        to_number = normalize_e164(req.mobile_number)
        numbers = await _caller_numbers(
            session,
            workspace_id,
            number_pool_id=req.number_pool_id,
            number_ids=req.from_number_ids,
            numbers=req.from_numbers,
        )

    config = merged_call_config(found.settings.call_config, req.call_config)
    tz = zone(config.call_time.timezone)
    scheduled = req.scheduled_at or config.call_time.scheduled_at
    earliest = max(now, parse_scheduled_at(scheduled, tz)) if scheduled else now
    not_before = next_allowed(
        earliest,
        start=config.call_time.call_start_time,
        end=config.call_time.call_end_time,
        tz_name=config.call_time.timezone,
    )
    if req.voice_id is not None and find_voice(req.voice_id) is None:
        raise InvalidRequest(f"Voice {req.voice_id!r} not found; see GET /agent/voices")

    call_id = new_id()
    chosen = numbers[int(call_id[:8], 16) % len(numbers)]  # spread calls over the given numbers
    return {
        "id": call_id,
        "workspace_id": workspace_id,
        "agent_id": found.agent_id,
        "agent_version_id": found.version_id,
        "direction": "outbound",
        "status": CallStatus.REGISTERED,
        "sub_status": SubStatus.QUEUED,
        "to_number": to_number,
        "from_number": chosen.number,
        "from_numbers": [n.number for n in numbers],
        "telephony_account_id": chosen.telephony_account_id,
        "callee_name": _callee_name(req),
        "custom_args_values": _variables(req, to_number),
        "call_config": config.model_dump(mode="json"),
        "voice_id": req.voice_id,
        "call_category": req.call_category,
        "parent_call_id": req.parent_call_id,
        "due_at": max(not_before, now),
        "created_at": now,
    }


async def _agent_version(
    session: AsyncSession, workspace_id: str, agent_id: str, version_id: str | None
) -> AgentVersionInfo:
    """The live agent and its version (default: the active one), through the lookup cache."""
    cache = lookups(session).agents
    key = (workspace_id, agent_id, version_id)
    info = cache.get(key)
    if info is not None:
        return info
    found = await agents_repo.with_version(session, workspace_id, agent_id, version_id)
    if found is None:
        raise NotFound("Agent not found")
    agent, version = found
    if version is None:
        raise NotFound("Version not found")
    info = AgentVersionInfo(agent.id, version.id, VersionSettings.model_validate(version.settings))
    cache.put(key, info)
    return info


async def _caller_numbers(
    session: AsyncSession,
    workspace_id: str,
    *,
    number_pool_id: str | None,
    number_ids: Sequence[str],
    numbers: Sequence[str],
) -> tuple[CallerNumber, ...]:
    """:func:`caller_numbers`, through the lookup cache."""
    cache = lookups(session).numbers
    key = (workspace_id, number_pool_id, tuple(sorted(number_ids)), tuple(sorted(numbers)))
    found = cache.get(key)
    if found is not None:
        return found
    rows = await caller_numbers(
        session, workspace_id, number_pool_id=number_pool_id, number_ids=number_ids, numbers=numbers
    )
    found = tuple(CallerNumber(n.number, a.id) for n, a in rows)
    cache.put(key, found)
    return found


def merged_call_config(base: CallConfig, overrides: dict[str, Any]) -> CallConfig:
    try:
        return CallConfig.model_validate(deep_merge(base.model_dump(mode="json"), overrides))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InvalidRequest(f"Invalid call_config: {where} {err['msg']}") from exc


async def caller_numbers(
    session: AsyncSession,
    workspace_id: str,
    *,
    number_pool_id: str | None = None,
    number_ids: Sequence[str] = (),
    numbers: Sequence[str] = (),
) -> Sequence[tuple[PhoneNumber, TelephonyAccount]]:
    """The caller numbers named by a pool, by ids or by E.164 numbers (exactly one source)."""
    query = (
        select(PhoneNumber, TelephonyAccount)
        .join(TelephonyAccount, TelephonyAccount.id == PhoneNumber.telephony_account_id)
        .where(PhoneNumber.workspace_id == workspace_id, PhoneNumber.deleted_at.is_(None))
    )
    if number_pool_id is not None:
        rows = (
            await session.execute(query.where(PhoneNumber.number_pool_id == number_pool_id))
        ).all()
        if not rows:
            raise InvalidRequest("Number pool not found.")
        return [(n, a) for n, a in rows]
    if number_ids:
        wanted = set(number_ids)
        rows = (await session.execute(query.where(PhoneNumber.id.in_(wanted)))).all()
    else:
        wanted = {normalize_e164(n) for n in numbers}
        rows = (await session.execute(query.where(PhoneNumber.number.in_(wanted)))).all()
    if len(rows) != len(wanted):
        raise NotFound("Caller number not found in this workspace")
    return [(n, a) for n, a in rows]


def _callee_name(req: CallRequest) -> str:
    name = str(req.custom_args_values.get("callee_name") or req.name).strip()
    fmt = req.smart_formatter or {}
    if fmt.get("extract_first_name") or fmt.get("transliteration"):
        name = names.first_name(name)
    if fmt.get("transliteration"):
        target = (fmt.get("transliteration_language") or {}).get("target", "hi")
        name = names.transliterate(name, target=str(target))
    return name


def _variables(req: CallRequest, to_number: str) -> dict[str, Any]:
    values = {k: v if isinstance(v, str) else str(v) for k, v in req.custom_args_values.items()}
    original = str(values.get("callee_name") or req.name)
    values["callee_name"] = _callee_name(req)
    if values["callee_name"] != original:
        values["original_callee_name"] = original
    values["mobile_number"] = to_number
    return values
