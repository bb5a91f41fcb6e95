"""Identifiers: every public id is a UUID string, as in Ringg's API."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("7f5b0c5e-3f7a-4c61-9a8e-1d2b9c0c6a11")


def new_id() -> str:
    return str(uuid.uuid4())


def stable_id(key: str) -> str:
    """A UUID derived from ``key``: the same key gives the same id on every machine."""
    return str(uuid.uuid5(_NAMESPACE, key))


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True
