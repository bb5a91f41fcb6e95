"""Phone numbers are E.164 strings with a leading '+'."""

from __future__ import annotations

import functools
import re
from typing import Final

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber

from callwright.domain.errors import InvalidRequest

_SEPARATORS: Final = str.maketrans("", "", " -.()")
_PLUS_DIGITS: Final = re.compile(r"\+?[0-9]+")
_TWO_DIGITS: Final = re.compile(r"\d.*\d", re.DOTALL)


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


def region_for_country_code(country_code: str) -> str:
    """``"+91"``, ``"91"`` or ``"IN"`` → ``"IN"``; ``"+1"`` or ``"US"`` → ``"US"``.

    Raises InvalidRequest for anything else."""
    text = country_code.strip()
    if text.upper() in phonenumbers.SUPPORTED_REGIONS:
        return text.upper()
    digits = text.removeprefix("+")
    if digits.isascii() and digits.isdigit() and len(digits) <= 3:
        region = phonenumbers.region_code_for_country_code(int(digits))
        if region in phonenumbers.SUPPORTED_REGIONS:
            return str(region)
    raise InvalidRequest(
        f"Invalid country_code {country_code!r}: use a dialling prefix such as '+91' or '+1', "
        "or a region such as 'IN' or 'US'."
    )


class PhoneNormaliser:
    """E.164 for one default region, with a fast path for plain digit strings.

    ``phonenumbers.parse`` costs ~60 µs a number. Most cells are digits (maybe with ``+`` and
    separators) needing none of its special cases; for those, this derives the same result from
    the metadata directly (~3 µs) and defers to ``parse`` whenever a special case could apply:
    an international or national prefix, the default country code written without ``+``, or a
    leading zero. ``tests/contacts`` checks the two paths agree.
    """

    def __init__(self, region: str) -> None:
        self.region = region
        metadata = PhoneMetadata.metadata_for_region(region)
        assert metadata is not None
        self._metadata = metadata
        assert metadata.country_code is not None
        self._cc: int = metadata.country_code
        self._cc_text = str(metadata.country_code)
        self._idd = re.compile(metadata.international_prefix or r"(?!)")
        self._own_prefix = re.compile(metadata.national_prefix_for_parsing or r"(?!)")
        self._possible: dict[tuple[int, int], bool] = {}
        self._prefix: dict[int, re.Pattern[str] | None] = {}

    def __call__(self, raw: str) -> str | None:
        """E.164, or None when the text is not a possible phone number."""
        text = raw.strip().removeprefix("'")  # "'" is how our exports neutralise "+…"
        fast = self.fast(text)
        if fast is not None:
            return fast or None
        if not _TWO_DIGITS.search(text):  # parse() needs two digits at least: skip its cost
            return None
        return self.slow(text)

    def slow(self, text: str) -> str | None:
        try:
            number = phonenumbers.parse(text, self.region)
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(number):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def fast(self, text: str) -> str | None:
        """E.164, ``""`` if impossible, or None when only ``parse`` can tell."""
        compact = text.translate(_SEPARATORS)
        n_digits = len(compact) - compact.startswith("+")
        if not 3 <= n_digits <= 17 or not _PLUS_DIGITS.fullmatch(compact):
            return None  # parse() wants 3 digits when separators split them: let it judge
        if compact[0] == "+":
            digits = compact[1:]
            cc = _country_code(digits[:3])
            if not cc:
                return None
            national = digits[len(str(cc)) :]
        else:
            if compact.startswith(self._cc_text) or self._idd.match(compact):
                return None
            cc, national = self._cc, compact
        if len(national) < 2 or national[0] == "0":
            return None
        # parse() strips a national prefix with the metadata of the default region for numbers
        # written without "+" (Antigua's 7-digit numbers gain their area code there), and with
        # the metadata of the country code's main region for numbers with "+".
        prefix = self._own_prefix if compact[0] != "+" else self._national_prefix(cc)
        if prefix is None or prefix.match(national):
            return None
        key = (cc, len(national))
        possible = self._possible.get(key)
        if possible is None:
            number = PhoneNumber(country_code=cc, national_number=int(national))
            possible = self._possible[key] = phonenumbers.is_possible_number(number)
        return f"+{cc}{national}" if possible else ""

    def _national_prefix(self, cc: int) -> re.Pattern[str] | None:
        """The national-prefix pattern of ``cc`` (never matching if it has none), or None when
        the country code is not a geographic one this fast path knows."""
        if cc not in self._prefix:
            region = phonenumbers.region_code_for_country_code(cc)
            meta = (
                PhoneMetadata.metadata_for_region(region)
                if region in phonenumbers.SUPPORTED_REGIONS
                else None
            )
            if meta is None:
                self._prefix[cc] = None
            else:
                self._prefix[cc] = re.compile(meta.national_prefix_for_parsing or r"(?!)")
        return self._prefix[cc]


@functools.cache
def _country_code(prefix: str) -> int:
    """The country calling code that ``prefix`` (the first three digits) starts with, or 0."""
    for width in (1, 2, 3):
        if prefix[:width].isdigit() and prefix[0] != "0":
            cc = int(prefix[:width])
            if cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return cc
    return 0
