"""Run one simulated call end to end, without the database: dial through the ``sim``
telephony, run a :class:`~callwright.media.session.CallSession` on the answered stream,
and return both sides' view of the call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

from callwright.media.config import CallResult, SessionConfig
from callwright.media.session import CallSession
from callwright.providers.base import DialOutcome, DialRequest
from callwright.providers.telephony.sim import SimTelephony
from callwright.sim.network import DialRecord
from callwright.sim.report import PersonaReport


@dataclass(frozen=True, slots=True)
class SimCallReport:
    """``result`` and ``persona`` are None when the call was not answered."""

    outcome: DialOutcome
    detail: str
    provider_call_id: str
    result: CallResult | None
    persona: PersonaReport | None
    dial: DialRecord | None  # the network's record of this dial
    clear_times_mono: tuple[float, ...] = ()  # when the agent flushed the callee's buffer


async def run_sim_call(
    *,
    session_config: SessionConfig,
    telephony: SimTelephony,
    to_number: str,
    from_number: str,
    variables: dict[str, str] | None = None,
    persona: str | None = None,
    ring_timeout_s: float = 30.0,
) -> SimCallReport:
    """Place one call on the simulated network and run it to its end.

    ``variables`` are the call's ``custom_args_values``: they fill the session's
    placeholders and reach the callee (``persona``, ``callee_name``); ``persona`` is a
    shorthand for ``variables["persona"]``.
    """
    call_vars = dict(session_config.variables) | dict(variables or {})
    if persona is not None:
        call_vars["persona"] = persona
    config = replace(session_config, variables=call_vars)
    dialed = await telephony.dial(
        DialRequest(
            call_id=config.call_id or "sim-call",
            from_number=from_number,
            to_number=to_number,
            variables=call_vars,
            ring_timeout_s=ring_timeout_s,
        )
    )
    if dialed.outcome is not DialOutcome.ANSWERED or dialed.stream is None:
        return SimCallReport(
            outcome=dialed.outcome,
            detail=dialed.detail,
            provider_call_id=dialed.provider_call_id,
            result=None,
            persona=None,
            dial=_record(telephony, dialed.provider_call_id),
        )
    try:
        result = await CallSession(config=config, stream=dialed.stream).run()
    finally:
        await dialed.stream.hangup()  # no-op after the session's own hang-up
    callee = await asyncio.shield(telephony.persona_report(dialed.provider_call_id))
    return SimCallReport(
        outcome=dialed.outcome,
        detail=dialed.detail,
        provider_call_id=dialed.provider_call_id,
        result=result,
        persona=callee,
        dial=_record(telephony, dialed.provider_call_id),
        clear_times_mono=tuple(telephony.line(dialed.provider_call_id).clear_times_mono),
    )


def _record(telephony: SimTelephony, provider_call_id: str) -> DialRecord | None:
    return next(
        (r for r in telephony.network.records() if r.provider_call_id == provider_call_id), None
    )
