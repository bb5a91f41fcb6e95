"""Telephony through a SIP trunk or PBX (``sip``): our own asyncio user agent and RTP.

Options are the telephony account's :class:`~callwright.domain.telephony.SipCredentials`
plus the local side (bind address, advertised address, RTP ports, call cap). One
:class:`SipTelephony` owns one SIP socket; it starts on first use (dialing, or
:meth:`SipTelephony.listen` for inbound calls) and :meth:`aclose` ends every call.

Outcomes: 2xx answered; 486/600 busy; ring timeout (our CANCEL → 487), 408 and 480 no
answer; 603 and other 4xx rejected (404/484 fail as an invalid number); 5xx, auth
failures and network errors failed.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from callwright.providers.base import (
    DialOutcome,
    DialRequest,
    DialResult,
    ErrorCategory,
    MediaStream,
    ProviderError,
)
from callwright.sip import CallGone, IncomingCall, SipError, UaConfig, UserAgent, place_call
from callwright.sip.message import SipParseError

log = logging.getLogger(__name__)

BUSY = frozenset({486, 600})
NO_ANSWER = frozenset({408, 480, 487})
INVALID_NUMBER = frozenset({404, 410, 484, 416})
REJECT_STATUS = {"busy": (486, "Busy Here"), "declined": (603, "Decline")}


class SipTelephonyConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=5060, ge=1, le=65535)
    transport: Literal["udp", "tcp"] = "udp"
    username: str | None = None
    password: SecretStr | None = None
    registration: bool = False
    from_domain: str | None = None
    bind_host: str = "0.0.0.0"
    bind_port: int = Field(default=5060, ge=0, le=65535)
    contact_host: str | None = None  # None: the local address that routes to the trunk
    rtp_port_min: int = Field(default=20_000, ge=1024, le=65534)
    rtp_port_max: int = Field(default=30_000, ge=1025, le=65535)
    max_calls: int = Field(default=200, ge=1, le=10_000)
    register_expires_s: int = Field(default=300, ge=30, le=86_400)


class SipInboundCall:
    """An incoming call as the platform sees it (see ``services.inbound.InboundCall``)."""

    def __init__(self, incoming: IncomingCall) -> None:
        self._incoming = incoming
        self.provider_call_id = incoming.call_id
        self.from_number = _e164(incoming.from_user)
        self.to_number = _e164(incoming.to_user)

    async def answer(self) -> MediaStream:
        try:
            return await self._incoming.answer()
        except (CallGone, SipError, SipParseError, OSError) as exc:
            raise ProviderError(str(exc), category=ErrorCategory.UNAVAILABLE) from exc

    def reject(self, reason: Literal["busy", "declined", "unavailable"]) -> None:
        status, words = REJECT_STATUS.get(reason, (480, "Temporarily Unavailable"))
        self._incoming.reject(status, words)


InboundHandler = Callable[[SipInboundCall], Awaitable[None]]


class SipTelephony:
    """A ``Telephony`` over one SIP user agent."""

    def __init__(self, *, config: UaConfig) -> None:
        self.config = config
        self.ua: UserAgent | None = None
        self._handler: InboundHandler | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> UserAgent:
        async with self._lock:
            if self.ua is None:
                ua = UserAgent(config=self.config, on_incoming=self._incoming)
                try:
                    await ua.start()
                except OSError as exc:
                    ua.transport.close()
                    raise ProviderError(
                        f"cannot listen for SIP on {self.config.bind_host}:{self.config.bind_port}:"
                        f" {exc}",
                        category=ErrorCategory.UNAVAILABLE,
                    ) from exc
                self.ua = ua
            return self.ua

    async def listen(self, handler: InboundHandler) -> None:
        """Answer incoming INVITEs with ``handler`` (it answers or rejects; it runs the call)."""
        self._handler = handler
        await self.start()

    async def _incoming(self, incoming: IncomingCall) -> None:
        if self._handler is None:
            incoming.reject(480, "Temporarily Unavailable")
            return
        await self._handler(SipInboundCall(incoming))

    async def dial(self, request: DialRequest) -> DialResult:
        ua = await self.start()
        try:
            outcome = await place_call(
                ua,
                to_user=request.to_number,
                from_user=request.from_number,
                ring_timeout_s=request.ring_timeout_s,
            )
        except (SipError, SipParseError, OSError) as exc:
            raise ProviderError(
                f"SIP dial failed: {exc}", category=ErrorCategory.UNAVAILABLE, retryable=True
            ) from exc
        status = outcome.status
        if outcome.call is not None:
            return DialResult(DialOutcome.ANSWERED, outcome.call_id, stream=outcome.call)
        if status in BUSY:
            return DialResult(DialOutcome.BUSY, outcome.call_id, detail="busy line")
        if status in NO_ANSWER and (status != 408 or outcome.ringing):
            return DialResult(DialOutcome.NO_ANSWER, outcome.call_id, detail="no answer")
        if status in INVALID_NUMBER:
            return DialResult(DialOutcome.FAILED, outcome.call_id, detail="invalid number")
        if status == 603 or (400 <= status < 500 and status not in (401, 407, 408, 488)):
            return DialResult(DialOutcome.REJECTED, outcome.call_id, detail="rejected")
        log.info("SIP call %s failed: %s %s", outcome.call_id, status, outcome.reason)
        return DialResult(DialOutcome.FAILED, outcome.call_id, detail="")

    async def aclose(self) -> None:
        if self.ua is not None:
            await self.ua.aclose()
            self.ua = None


def _e164(user: str) -> str:
    digits = user.removeprefix("+")
    return f"+{digits}" if digits.isdigit() and len(digits) >= 7 else user


def _hostport(host: str, port: int) -> str:
    """The trunk as the host part of our URIs (a port other than 5060 is written out, so a
    peer that checks its own address in the request URI recognises itself)."""
    host = f"[{host}]" if ":" in host else host
    return host if port == 5060 else f"{host}:{port}"


def _route_to(host: str, port: int) -> str:
    """The local address the OS would use to reach the trunk (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((host, port))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def ua_config(config: SipTelephonyConfig) -> UaConfig:
    if config.transport != "udp":
        raise ProviderError(
            "SIP over TCP is not supported yet; use transport 'udp'",
            category=ErrorCategory.BAD_REQUEST,
        )
    if config.rtp_port_max <= config.rtp_port_min:
        raise ProviderError(
            "rtp_port_max must exceed rtp_port_min", category=ErrorCategory.BAD_REQUEST
        )
    contact = config.contact_host
    if contact is None:
        contact = (
            config.bind_host
            if config.bind_host not in ("0.0.0.0", "")
            else _route_to(config.host, config.port)
        )
    return UaConfig(
        bind_host=config.bind_host,
        bind_port=config.bind_port,
        contact_host=contact,
        proxy=(config.host, config.port),
        domain=config.from_domain or _hostport(config.host, config.port),
        username=config.username,
        password=config.password.get_secret_value() if config.password else None,
        register=config.registration,
        register_expires_s=config.register_expires_s,
        rtp_port_min=config.rtp_port_min,
        rtp_port_max=config.rtp_port_max,
        max_calls=config.max_calls,
    )


class SipProvider:
    name = "sip"
    kind = "telephony"
    extra = ""

    def config_model(self) -> type[BaseModel]:
        return SipTelephonyConfig

    def create(self, config: BaseModel) -> SipTelephony:
        assert isinstance(config, SipTelephonyConfig)
        return SipTelephony(config=ua_config(config))


PROVIDER = SipProvider()
