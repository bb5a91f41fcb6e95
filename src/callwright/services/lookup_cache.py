"""Short-lived, in-process caches of what every API request looks up: the workspace an API
key belongs to, and (to place a call) the agent with its version and the caller numbers.

Freshness:
- In this process, a committed change is seen at once: any ORM flush that touches an API key,
  agent, agent version, phone number or telephony account drops the matching entries when
  its transaction commits (and an ORM bulk UPDATE/DELETE of those tables drops them all).
- Across processes (``callwright serve`` workers, ``callwright keys revoke`` from the CLI), an
  entry lives at most ``TTL_S`` seconds: a revoked key stops working, and an edited agent or
  number takes effect, within that time.

Caches are per database engine, so two containers in one process (tests) never share one.
Entries are plain frozen values, never ORM objects, so they cannot leak between sessions.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from callwright.db.models import Agent, AgentVersion, ApiKey, PhoneNumber, TelephonyAccount
from callwright.domain.assistant import VersionSettings

TTL_S = 2.0
MAX_ENTRIES = 10_000

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """A dict whose entries expire ``ttl_s`` after they were stored."""

    def __init__(self, ttl_s: float = TTL_S, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl_s = ttl_s
        self._max = max_entries
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()  # a flood of distinct keys: start over rather than grow
        self._entries[key] = (time.monotonic() + self._ttl_s, value)

    def drop(self, keep: Callable[[K], bool]) -> None:
        """Drop every entry whose key ``keep`` rejects."""
        self._entries = {k: v for k, v in self._entries.items() if keep(k)}

    def clear(self) -> None:
        self._entries.clear()


@dataclass(frozen=True, slots=True)
class AgentVersionInfo:
    """A live agent and one of its versions, with the version's settings parsed."""

    agent_id: str
    version_id: str
    settings: VersionSettings


@dataclass(frozen=True, slots=True)
class CallerNumber:
    number: str
    telephony_account_id: str


AgentKey = tuple[str, str, str | None]  # workspace, agent, version (None: the active one)
NumbersKey = tuple[str, str | None, tuple[str, ...], tuple[str, ...]]  # workspace, pool, ids, E.164


class Lookups:
    def __init__(self) -> None:
        self.workspace_by_key: TtlCache[str, str] = TtlCache()  # key digest → workspace id
        self.agents: TtlCache[AgentKey, AgentVersionInfo] = TtlCache()
        self.numbers: TtlCache[NumbersKey, tuple[CallerNumber, ...]] = TtlCache()

    def forget(self, touched: set[tuple[str, str | None]]) -> None:
        """Drop what the committed changes ``touched`` ((kind, workspace id or None: all))
        may have made stale."""
        for kind, workspace_id in touched:
            if kind == "keys":
                self.workspace_by_key.clear()
                continue
            cache: TtlCache[Any, Any] = self.agents if kind == "agents" else self.numbers
            if workspace_id is None:
                cache.clear()
            else:
                cache.drop(partial(_other_workspace, workspace_id))


def _other_workspace(workspace_id: str, key: tuple[Any, ...]) -> bool:
    return bool(key[0] != workspace_id)


_by_engine: weakref.WeakKeyDictionary[Engine, Lookups] = weakref.WeakKeyDictionary()


def lookups(session: Session | Any) -> Lookups:
    """The caches of the database ``session`` (sync or async) is bound to."""
    engine: Engine = session.get_bind().engine  # an Engine's .engine is itself
    found = _by_engine.get(engine)
    if found is None:
        found = _by_engine[engine] = Lookups()
    return found


# --------------------------------------------------------------------------- invalidation

_KINDS: dict[type[Any], str] = {
    ApiKey: "keys",
    Agent: "agents",
    AgentVersion: "agents",
    PhoneNumber: "numbers",
    TelephonyAccount: "numbers",
}
_TABLES = {cls.__tablename__: kind for cls, kind in _KINDS.items()}
_TOUCHED = "lookup_cache.touched"


def _touched(session: Session) -> set[tuple[str, str | None]]:
    found: set[tuple[str, str | None]] = session.info.setdefault(_TOUCHED, set())
    return found


@event.listens_for(Session, "after_flush")
def _note_flushed(session: Session, _flush: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        kind = _KINDS.get(type(obj))
        if kind is not None:
            _touched(session).add((kind, getattr(obj, "workspace_id", None)))


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    kind = _TABLES.get(getattr(table, "name", ""))
    if kind is not None:
        _touched(state.session).add((kind, None))


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        lookups(session).forget(touched)


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_TOUCHED, None)
