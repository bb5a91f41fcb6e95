"""The built-in simulated phone network: a dial ledger, μ-law lines and simulated callees.

The ``sim`` telephony provider (:mod:`callwright.providers.telephony.sim`) places calls on
it; :func:`callwright.sim.run.run_sim_call` runs one call end to end without a database.
"""

from callwright.sim.line import SimLine
from callwright.sim.network import DialRecord, SimNetwork, max_concurrent_calls, read_dial_log
from callwright.sim.persona import Persona, PersonaEngines
from callwright.sim.personas import CATALOGUE, Interjection, PersonaSpec, resolve_persona
from callwright.sim.report import HeardUtterance, PersonaReport, SpeechKind, SpokenUtterance

__all__ = [
    "CATALOGUE",
    "DialRecord",
    "HeardUtterance",
    "Interjection",
    "Persona",
    "PersonaEngines",
    "PersonaReport",
    "PersonaSpec",
    "SimLine",
    "SimNetwork",
    "SpeechKind",
    "SpokenUtterance",
    "max_concurrent_calls",
    "read_dial_log",
    "resolve_persona",
]
