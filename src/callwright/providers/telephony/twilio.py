"""Telephony provider ``twilio``: calls placed with Twilio's REST API, audio on Media Streams.

:meth:`TwilioTelephony.dial` creates the call (``POST …/Calls.json``, see
:mod:`.twilio_rest`) with TwiML that connects a bidirectional Media Stream to our
WebSocket (see :mod:`.twilio_gateway`), and waits, for the ring timeout plus a little,
for whichever comes first:

- the Media Stream for the call starts → ``ANSWERED`` with its :class:`TwilioMediaStream`
  (μ-law 8 kHz on the wire, 16 kHz PCM frames to the platform; see :mod:`.twilio_stream`);
- a status callback (https://www.twilio.com/docs/voice/api/call-resource#statuscallback:
  ``CallStatus`` is one of queued, initiated, ringing, in-progress, busy, no-answer, failed,
  canceled, completed; ``SipResponseCode`` may say more) ends the attempt:

  ============  =================================  ==================
  CallStatus    DialOutcome                        detail
  ============  =================================  ==================
  busy          BUSY (REJECTED if SIP 603)         busy line / rejected
  no-answer     NO_ANSWER                          no answer
  failed        FAILED                             failed (SIP n)
  canceled      FAILED                             canceled
  completed     FAILED (answered, never streamed)  no media stream
  ============  =================================  ==================

- nothing: the call is cancelled (``Status=canceled``) and the outcome is ``NO_ANSWER``.

REST errors (bad credentials, an invalid ``To`` such as Twilio's 21211, rate limits, an
outage) raise :class:`ProviderError` with the matching category. Cancelling ``dial``
cancels the Twilio call.

The provider is built from a telephony account's credentials
(:class:`callwright.domain.telephony.TwilioCredentials`) plus the process's
:class:`TwilioGateway`, which the composition root adds to the options.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from callwright.domain.telephony import TwilioCredentials
from callwright.providers.base import (
    DialOutcome,
    DialRequest,
    DialResult,
    ErrorCategory,
    ProviderError,
)
from callwright.providers.telephony.twilio_gateway import CallStatus, Leg, TwilioGateway
from callwright.providers.telephony.twilio_stream import TwilioMediaStream

log = logging.getLogger(__name__)

__all__ = ["PROVIDER", "TwilioGateway", "TwilioMediaStream", "TwilioTelephony", "outcome_of"]


class TwilioTelephonyConfig(TwilioCredentials):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    gateway: TwilioGateway | None = Field(default=None, exclude=True)
    answer_grace_s: float = Field(
        default=5.0, ge=0, le=60, description="wait past the ring timeout for Twilio's verdict"
    )


def outcome_of(status: CallStatus) -> tuple[DialOutcome, str]:
    """The dial outcome (and its detail) of a terminal Twilio call status."""
    match status.status:
        case "busy" if status.sip_response_code == 603:
            return DialOutcome.REJECTED, "rejected"
        case "busy":
            return DialOutcome.BUSY, "busy line"
        case "no-answer":
            return DialOutcome.NO_ANSWER, "no answer"
        case "canceled":
            return DialOutcome.FAILED, "canceled"
        case "completed":
            return DialOutcome.FAILED, "no media stream"
        case _:
            code = status.sip_response_code
            return DialOutcome.FAILED, f"failed (SIP {code})" if code else "failed"


class TwilioTelephony:
    """A ``Telephony`` for one Twilio account."""

    def __init__(
        self,
        *,
        gateway: TwilioGateway,
        account_sid: str,
        auth_token: str,
        api_base_url: str | None = None,
        answer_grace_s: float = 5.0,
    ) -> None:
        self._gateway = gateway
        self._auth_token = auth_token
        self._rest = gateway.rest(
            account_sid=account_sid, auth_token=auth_token, api_base_url=api_base_url
        )
        self._answer_grace_s = answer_grace_s

    async def dial(self, request: DialRequest) -> DialResult:
        try:
            leg = self._gateway.open_leg(request.call_id, self._auth_token)
        except ValueError as exc:
            raise ProviderError(str(exc), category=ErrorCategory.BAD_REQUEST) from exc
        result: DialResult | None = None
        try:
            leg.call_sid = await self._rest.create_call(
                to=request.to_number,
                from_=request.from_number,
                twiml=self._gateway.connect_twiml(request.call_id),
                status_callback=self._gateway.status_url(request.call_id),
                ring_timeout_s=request.ring_timeout_s,
            )
            result = await self._await_answer(leg, request.ring_timeout_s + self._answer_grace_s)
            return result
        finally:
            if result is None or result.outcome is not DialOutcome.ANSWERED:
                # Never connected (an error, a verdict, a timeout, or we were cancelled).
                if leg.call_sid and result is None:
                    await asyncio.shield(self._end_quietly(leg.call_sid))
                self._gateway.close_leg(request.call_id)

    async def _await_answer(self, leg: Leg, timeout_s: float) -> DialResult:
        waiting: set[asyncio.Future[Any]] = {leg.answered, leg.ended}
        await asyncio.wait(waiting, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        if leg.answered.done():
            return DialResult(DialOutcome.ANSWERED, leg.call_sid, stream=leg.answered.result())
        if leg.ended.done():
            outcome, detail = outcome_of(leg.ended.result())
            return DialResult(outcome, leg.call_sid, detail=detail)
        await self._end_quietly(leg.call_sid)
        if leg.answered.done():  # the stream started while we were giving up on it
            await leg.answered.result().hangup()
        return DialResult(DialOutcome.NO_ANSWER, leg.call_sid, detail="no answer")

    async def _end_quietly(self, call_sid: str) -> None:
        try:
            await self._rest.end_call(call_sid, answered=False)
        except ProviderError as exc:
            log.warning("could not cancel twilio call %s: %s", call_sid, exc)


class TwilioProvider:
    name = "twilio"
    kind = "telephony"
    extra = ""  # core dependencies only (httpx)

    def config_model(self) -> type[BaseModel]:
        return TwilioTelephonyConfig

    def create(self, config: BaseModel) -> TwilioTelephony:
        assert isinstance(config, TwilioTelephonyConfig)
        if config.gateway is None:
            raise ProviderError(
                "the twilio provider needs the platform's TwilioGateway in its options "
                "(the composition root adds it)",
                category=ErrorCategory.INTERNAL,
            )
        return TwilioTelephony(
            gateway=config.gateway,
            account_sid=config.account_sid,
            auth_token=config.auth_token.get_secret_value(),
            api_base_url=config.api_base_url,
            answer_grace_s=config.answer_grace_s,
        )


PROVIDER = TwilioProvider()
