"""Find provider modules by kind and name, importing each only when first used."""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import BaseModel, ValidationError

from callwright.providers.base import EngineSpec, ErrorCategory, Provider, ProviderError

KINDS = ("vad", "stt", "llm", "tts", "telephony")


def load(kind: str, name: str) -> Provider[Any]:
    """Return ``callwright.providers.<kind>.<name>.PROVIDER``.

    Raises ProviderError(BAD_REQUEST) for an unknown provider and ProviderError(NOT_INSTALLED)
    when the provider's optional dependencies are missing (naming the extra to install).
    """
    if kind not in KINDS or not name.isidentifier():
        raise ProviderError(f"unknown {kind} provider {name!r}", category=ErrorCategory.BAD_REQUEST)
    module_name = f"callwright.providers.{kind}.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise ProviderError(
                f"unknown {kind} provider {name!r}", category=ErrorCategory.BAD_REQUEST
            ) from exc
        raise ProviderError(
            f"{kind} provider {name!r} needs {exc.name!r}: pip install 'callwright[engines]'",
            category=ErrorCategory.NOT_INSTALLED,
        ) from exc
    provider: Provider[Any] = module.PROVIDER
    return provider


def config_for(provider: Provider[Any], options: dict[str, Any]) -> BaseModel:
    """Validate raw options against the provider's config model."""
    try:
        return provider.config_model().model_validate(options)
    except ValidationError as exc:
        raise ProviderError(
            f"bad options for {provider.kind} provider {provider.name!r}: {exc}",
            category=ErrorCategory.BAD_REQUEST,
        ) from exc


def create(kind: str, spec: EngineSpec) -> Any:
    """Build a per-call engine from an assistant's choice."""
    provider = load(kind, spec.name)
    return provider.create(config_for(provider, spec.options))
