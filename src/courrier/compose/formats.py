"""Dates, numbers, amounts and phone numbers in the letter's language and for its destination country.

Dates, numbers and amounts come from CLDR through Babel, in the locale of the letter's language and the
country the letter goes to (``de_BE`` for a German letter to Belgium; the language's default where
CLDR has no such locale: English letters use British forms). French writes the first day of a month
``1er`` (``1er février 2026``), which CLDR's patterns leave out. Phone numbers are formatted by
libphonenumber (the ``phonenumbers`` package): nationally at home (``24 76 55 33``) and with the country
code abroad (``+352 24 76 55 33``), since a number without it cannot be dialled from France, Belgium or
Germany.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal

from courrier.country import HOME_COUNTRY
from courrier.errors import CompositionError

# The language's locale when CLDR has none for the destination country.
LOCALES = {"en": "en_GB", "fr": "fr_LU", "de": "de_LU", "pt": "pt_PT", "lb": "lb_LU"}
_FIRST_DAY = re.compile(r"(^|\s)1(?=\s)")


@lru_cache(maxsize=1024)
def locale_of(language: str, country: str = HOME_COUNTRY) -> str:
    """``de`` to Belgium: ``de_BE``; ``pt`` to France (no ``pt_FR`` in CLDR): ``pt_PT``."""
    language = language or "fr"
    candidate = f"{language}_{country.upper()}" if country else ""
    if candidate:
        try:
            Locale.parse(candidate)
            return candidate
        except (UnknownLocaleError, ValueError):
            pass
    return LOCALES.get(language, language)


def as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def format_date(value: Any, language: str, style: str = "long", country: str = HOME_COUNTRY) -> str:
    """``12 mars 2026``, ``1er mars 2026`` (fr), ``12. März 2026`` (de), ``12 March 2026`` (en),
    ``12 de março de 2026`` (pt), ``12. Mäerz 2026`` (lb)."""
    if value in (None, ""):
        return ""
    return _format_date(as_date(value), language, style, country)


@lru_cache(maxsize=4096)
def _format_date(day: dt.date, language: str, style: str, country: str) -> str:
    # A print run has a few dozen distinct dates: Babel's formatting is worth caching.
    text = str(babel_format_date(day, format=style, locale=locale_of(language, country)))
    if language == "fr" and day.day == 1:
        text = _FIRST_DAY.sub(r"\g<1>1er", text, count=1)
    return text


def format_number(value: Any, language: str, country: str = HOME_COUNTRY) -> str:
    return str(format_decimal(value, locale=locale_of(language, country)))


def format_money(value: Any, language: str, currency: str = "EUR", country: str = HOME_COUNTRY) -> str:
    try:
        return _format_money(value, repr(value), language, currency, country)
    except TypeError:  # an unhashable value: formatted, not cached
        return _format_money.__wrapped__(value, "", language, currency, country)


# A voucher letter prints its value twice and a campaign has one value: Babel's currency formatting
# (locale lookups, the currency's name and digits) was 18% of a voucher letter's time. The value's repr
# is part of the key: equal values that print differently (0.0 and -0.0, 50 and 50.0) are kept apart.
@lru_cache(maxsize=4096)
def _format_money(value: Any, _spelled: str, language: str, currency: str, country: str) -> str:
    return str(format_currency(value, currency, locale=locale_of(language, country)))


@lru_cache(maxsize=256)
def format_phone(number: str, country: str = HOME_COUNTRY) -> str:
    """``+352 24 76 55 33`` as dialled from ``country``: national at home, international abroad.

    ``number`` is written with its country code (``+352 247 65533``); one libphonenumber does not
    accept fails the letter rather than printing a number nobody can call."""
    try:
        parsed = phonenumbers.parse(number, HOME_COUNTRY)
    except phonenumbers.NumberParseException as error:
        raise CompositionError(f"the phone number {number!r}: {error}", code="bad_phone_number") from error
    if not phonenumbers.is_valid_number(parsed):
        raise CompositionError(f"the phone number {number!r} is not a valid number", code="bad_phone_number")
    home = phonenumbers.region_code_for_number(parsed) == (country or HOME_COUNTRY).upper()
    style = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    # No-break spaces: a phone number is never split across two lines.
    return str(phonenumbers.format_number(parsed, style)).replace(" ", "\xa0")
