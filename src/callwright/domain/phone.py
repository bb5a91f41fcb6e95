"""Phone numbers are E.164 strings with a leading '+'."""

from __future__ import annotations

import phonenumbers

from callwright.domain.errors import InvalidRequest


def normalize_e164(raw: str, *, default_region: str | None = None) -> str:
    """Return ``raw`` as E.164, or raise InvalidRequest naming the bad value."""
    text = raw.strip()
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidRequest(
            f"Invalid phone number {text!r}: use E.164, e.g. +14155550123"
        ) from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidRequest(f"Invalid phone number {text!r}: use E.164, e.g. +14155550123")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
