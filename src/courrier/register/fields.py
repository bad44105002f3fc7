"""Normalising one field of a register row: whitespace, Unicode, postcodes, countries.

Names and addresses are otherwise kept exactly as given: no case change, no transliteration.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from babel import Locale

DEFAULT_LANGUAGE = "fr"
SEXES = ("F", "M", "X", "")

# Postcode spelling per country: what we accept (an optional country letter and dash) and how we write it.
_POSTCODE_RULES: dict[str, tuple[re.Pattern[str], str, str]] = {
    "LU": (re.compile(r"(?:L\s*-?\s*)?(\d{4})", re.IGNORECASE), "L-{}", "4 digits, written L-1234"),
    "FR": (re.compile(r"(?:F\s*-?\s*)?(\d{5})", re.IGNORECASE), "{}", "5 digits"),
    "BE": (re.compile(r"(?:B\s*-?\s*)?(\d{4})", re.IGNORECASE), "{}", "4 digits"),
    "DE": (re.compile(r"(?:D\s*-?\s*)?(\d{5})", re.IGNORECASE), "{}", "5 digits"),
}
_OTHER_POSTCODE = re.compile(r"[A-Z0-9][A-Z0-9 -]{1,9}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# CLDR territory codes that are not countries a letter can go to.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ"})


def clean_text(value: str) -> str:
    """Trim, collapse runs of whitespace (tabs, no-break spaces...) to one space, compose to NFC."""
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    if "  " in value or value[:1].isspace() or value[-1:].isspace() or not value.isprintable():
        value = " ".join(value.split())
    return value


def has_control_character(value: str) -> bool:
    return _CONTROL.search(value) is not None


def normalise_postcode(postcode: str, country: str) -> str | None:
    """The postcode as the post writes it for ``country``, or None when it is malformed."""
    rule = _POSTCODE_RULES.get(country)
    if rule is None:
        candidate = postcode.upper()
        return candidate if _OTHER_POSTCODE.fullmatch(candidate) else None
    pattern, spelling, _ = rule
    match = pattern.fullmatch(postcode)
    return spelling.format(match.group(1)) if match else None


def postcode_expectation(country: str) -> str:
    rule = _POSTCODE_RULES.get(country)
    return rule[2] if rule else "2 to 10 letters, digits, spaces or dashes"


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166 alpha-2 codes, as CLDR (through Babel) knows them."""
    territories = [str(code) for code in Locale("en").territories]
    return frozenset(
        code for code in territories if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )
