"""The Telephony for each carrier account, built once per process and kept."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from callwright.db.models import TelephonyAccount
from callwright.providers import registry
from callwright.providers.base import EngineSpec, Telephony


class TelephonyDirectory:
    """Maps a telephony account to a live ``Telephony``. ``overrides`` (provider name →
    instance) lets tests put a sim network with fake callee engines in place."""

    def __init__(
        self,
        *,
        data_dir: Path,
        overrides: dict[str, Telephony] | None = None,
        provider_options: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self._data_dir = data_dir
        self._overrides = dict(overrides or {})
        # Live collaborators a provider needs besides the account's credentials
        # (twilio: the process's TwilioGateway).
        self._provider_options = dict(provider_options or {})
        self._by_account: dict[str, Telephony] = {}
        self._lock = asyncio.Lock()

    async def for_account(self, account: TelephonyAccount) -> Telephony:
        if account.provider in self._overrides:
            return self._overrides[account.provider]
        async with self._lock:
            cached = self._by_account.get(account.id)
            if cached is not None:
                return cached
            options: dict[str, Any] = dict(account.credentials)
            if account.provider == "sim":
                options.setdefault("log_dir", str(self._data_dir / "sim"))
            options.update(self._provider_options.get(account.provider, {}))
            spec = EngineSpec(account.provider, options)
            telephony: Telephony = await asyncio.to_thread(registry.create, "telephony", spec)
            self._by_account[account.id] = telephony
        return telephony

    async def aclose(self) -> None:
        for telephony in [*self._by_account.values(), *self._overrides.values()]:
            close = getattr(telephony, "aclose", None)
            if close is not None:
                await close()
