"""API keys: random, prefixed, shown once, stored only as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "cwk_"


def generate() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    """The stored form of a key. Keys carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def hint(key: str) -> str:
    """What we may show later: enough to tell keys apart, useless to an attacker."""
    return f"{key[:8]}…{key[-4:]}" if len(key) > 16 else "…"
