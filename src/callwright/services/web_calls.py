"""Browser calls: who may open one, the call row, and the conversation over a WebSocket.

A browser call is a phone call without a phone network: the :class:`Dialer`'s engines,
knowledge bases, recorder, clock and bookkeeping run it; only the transport differs
(:class:`callwright.providers.telephony.web.WebSocketStream`). Its row has direction
``webcall`` (Ringg's ``call_type``), no numbers, and the assistant's active version.

Two ways in:

- the dashboard: the workspace API key, any assistant of that workspace;
- the embeddable widget: the assistant's ``webcall_public_key``, accepted only from a page
  whose ``Origin`` is in the assistant's ``whitelisted_domains`` (browsers set ``Origin``
  on every WebSocket handshake and pages cannot forge it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from callwright.db.models import Agent, AgentVersion, Call
from callwright.db.repositories import agents as agents_repo
from callwright.db.repositories import calls as calls_repo
from callwright.domain import credits
from callwright.domain.assistant import VersionSettings
from callwright.domain.call import CallStatus, SubStatus
from callwright.domain.errors import (
    Forbidden,
    InsufficientCredits,
    InvalidRequest,
    NotFound,
    Unauthorized,
)
from callwright.domain.ids import new_id
from callwright.domain.voices import DEFAULT_VOICE
from callwright.domain.voices import find as find_voice
from callwright.media.config import CallResult, EndReason
from callwright.media.frames import FinalTranscript, Frame
from callwright.media.session import CallSession
from callwright.providers.base import ProviderError
from callwright.providers.telephony.web import WebSocketStream
from callwright.services import workspaces
from callwright.services.dialing import Dialer, analysis_job
from callwright.services.events import record_call_started
from callwright.services.session_config import session_config

log = logging.getLogger(__name__)

WEBCALL = "webcall"  # Call.direction and Ringg's call_type for browser calls
WEB_NUMBER = "web"  # calls.to_number is required; a browser has no number
MAX_VARIABLES = 50
MAX_VARIABLE_CHARS = 500
DRAIN_S = 2.0  # after closing, how long the socket may take to finish its close handshake


@dataclass(frozen=True, slots=True)
class WebCaller:
    """An authorised browser call: the assistant and version it talks to."""

    workspace_id: str
    agent: Agent
    version: AgentVersion
    via_public_key: bool


# --------------------------------------------------------------------------- origins


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports dropped (``Origin`` form)."""
    parts = urlsplit(value.strip())
    if not parts.scheme or not parts.hostname:
        return value.strip().lower().rstrip("/")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    port = parts.port
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme.lower()}://{host}{suffix}"


def origin_allowed(origin: str | None, whitelisted: list[str]) -> bool:
    """Whether a page at ``origin`` may use the widget. Entries are origins
    (``https://shop.example``), bare hosts (any scheme and port) or ``*.example.com``."""
    if not origin or origin == "null":
        return False
    wanted = normalize_origin(origin)
    host = (urlsplit(wanted).hostname or "").lower()
    for entry in whitelisted:
        entry = entry.strip().lower()
        if not entry:
            continue
        if entry.startswith("*."):
            if host.endswith(entry[1:]) and host != entry[2:]:
                return True
        elif "://" in entry:
            if normalize_origin(entry) == wanted:
                return True
        elif entry.rstrip("/") == host:
            return True
    return False


# --------------------------------------------------------------------------- authorising


async def authorize(
    dialer: Dialer,
    *,
    agent_id: str,
    api_key: str | None,
    public_key: str | None,
    origin: str | None,
) -> WebCaller:
    """Check the credentials of a browser call; raise a DomainError saying what is wrong."""
    if not agent_id or len(agent_id) > 64:
        raise InvalidRequest("agent_id is required")
    if api_key:
        workspace_id = await workspaces.authenticate(dialer.uow, api_key)
        async with dialer.uow() as session:
            found = await agents_repo.with_version(session, workspace_id, agent_id, None)
        if found is None or found[1] is None:
            raise NotFound("Agent not found")
        return WebCaller(workspace_id, found[0], found[1], via_public_key=False)
    if not public_key:
        raise Unauthorized("Send the assistant's public key (widget) or an API key")
    async with dialer.uow() as session:
        # The public key itself names the workspace: this lookup is by agent id alone.
        row = (
            await session.execute(
                select(Agent, AgentVersion)
                .outerjoin(AgentVersion, AgentVersion.id == Agent.active_version_id)
                .where(Agent.id == agent_id, Agent.is_archived.is_(False))
            )
        ).first()
    expected = row[0].webcall_public_key if row is not None else None
    if row is None or expected is None:
        raise Unauthorized("Invalid public key")
    agent, version = row[0], row[1]
    if not hmac.compare_digest(expected.encode(), public_key.encode()):
        raise Unauthorized("Invalid public key")
    if version is None:
        raise NotFound("Agent has no active version")
    settings = VersionSettings.model_validate(version.settings)
    if not origin_allowed(origin, settings.whitelisted_domains):
        raise Forbidden(
            f"This page's origin ({origin or 'none'}) is not in the assistant's whitelisted domains"
        )
    return WebCaller(agent.workspace_id, agent, version, via_public_key=True)


def clean_variables(raw: Any) -> dict[str, str]:
    """The call's ``custom_args_values`` from the browser: a small flat map of strings."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidRequest("variables must be an object of strings")
    if len(raw) > MAX_VARIABLES:
        raise InvalidRequest(f"at most {MAX_VARIABLES} variables")
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key or len(key) > 64:
            raise InvalidRequest("variable names are 1-64 characters")
        if not isinstance(value, str | int | float | bool):
            raise InvalidRequest(f"variable {key!r} must be a string")
        text = str(value)
        if len(text) > MAX_VARIABLE_CHARS:
            raise InvalidRequest(f"variable {key!r} is longer than {MAX_VARIABLE_CHARS}")
        out[key] = text
    return out


async def rotate_public_key(dialer: Dialer, workspace_id: str, agent_id: str) -> str:
    """A new widget key for the assistant; the old one stops working at once."""
    async with dialer.uow.begin() as session:
        agent = await agents_repo.get(session, workspace_id, agent_id)
        if agent is None or agent.is_archived:
            raise NotFound("Agent not found")
        agent.webcall_public_key = secrets.token_urlsafe(24)
        return agent.webcall_public_key


# --------------------------------------------------------------------------- the call


@dataclass
class WebCalls:
    """Opens and runs browser calls with the dialer's engines, recorder and bookkeeping."""

    dialer: Dialer

    async def open(self, caller: WebCaller, variables: dict[str, str]) -> Call:
        """The call row, ``ongoing`` from the start, with credits locked for its longest
        length; its ``call_started`` event commits with it."""
        d = self.dialer
        settings = VersionSettings.model_validate(caller.version.settings)
        config = settings.call_config.model_dump(mode="json")
        now = d.now()
        call = Call(
            id=new_id(),
            workspace_id=caller.workspace_id,
            agent_id=caller.agent.id,
            agent_version_id=caller.version.id,
            direction=WEBCALL,
            status=CallStatus.ONGOING,
            sub_status=SubStatus.ACCEPTED,
            to_number=WEB_NUMBER,
            from_number=None,
            from_numbers=[],
            telephony_account_id=None,
            callee_name=variables.get("callee_name", ""),
            custom_args_values=variables,
            call_config=config,
            due_at=now,
            created_at=now,
            initiated_at=now,
            answered_at=now,
            provider_call_id=f"web-{secrets.token_hex(8)}",
            locked_credits=credits.estimate(
                int(config["max_call_length"]), credits_per_minute=d.credits_per_minute
            ),
        )
        async with d.uow.begin() as session:
            if not await calls_repo.lock_credits(session, caller.workspace_id, call.locked_credits):
                raise InsufficientCredits("Insufficient credits to start a call")
            session.add(call)
            await record_call_started(session, call)
        if d.events is not None:
            d.events.wake()
        return call

    async def converse(self, caller: WebCaller, call: Call, stream: WebSocketStream) -> CallResult:
        """Hold the conversation until either side hangs up, then settle the call and queue
        its analysis, exactly as a phone call's. The browser hears the agent, sees what it
        said itself as the call goes (``transcript`` messages) and gets a final ``ended``."""
        d = self.dialer
        settings = VersionSettings.model_validate(caller.version.settings)
        voice = find_voice(settings.voice_id or "") or DEFAULT_VOICE
        path = d.recordings.path_for(call.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        serving = asyncio.create_task(stream.serve(), name=f"webcall-{call.id}")
        result: CallResult | None = None
        try:
            try:
                engines = await d.engines.for_call(settings, voice)
                knowledge = (
                    d.knowledge.for_call(call.workspace_id, settings) if d.knowledge else None
                )
                config = session_config(
                    call, settings, engines, recording_path=path, knowledge=knowledge
                )
                result = await CallSession(
                    config=config, stream=stream, clock=d.clock, observers=[_Captions(stream)]
                ).run()
            except ProviderError as exc:
                log.warning("engines failed for web call %s: %s", call.id, exc)
                result = CallResult(
                    call_id=call.id,
                    end_reason=EndReason.ERROR,
                    duration_s=0.0,
                    transcript=(),
                    turn_latencies=(),
                    error=str(exc),
                )
            await stream.hangup()
            # Settle even if the browser's socket is gone or this task is being cancelled.
            await asyncio.shield(self._settle(call, result))
        finally:
            if stream.error is not None:
                final = {"type": "error", "code": 400, "message": stream.error}
            else:
                reason = result.end_reason.value if result is not None else EndReason.ERROR.value
                final = {"type": "ended", "call_id": call.id, "end_reason": reason}
            await stream.close(final)
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(serving, DRAIN_S)
        return result

    async def _settle(self, call: Call, result: CallResult) -> None:
        d = self.dialer
        await d.finish_answered(call, result, voicemail=False)
        await d.enqueue(analysis_job(call))


class _Captions:
    """Tells the browser what the caller was heard to say, turn by turn."""

    def __init__(self, stream: WebSocketStream) -> None:
        self._stream = stream

    def on_frame(self, frame: Frame) -> None:
        if isinstance(frame, FinalTranscript) and not frame.speculative and frame.text:
            self._stream.notify({"type": "transcript", "role": "user", "text": frame.text})
