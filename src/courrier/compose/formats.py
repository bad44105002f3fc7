"""Dates, numbers and amounts in the letter's language (CLDR, through Babel)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal

# English letters use British forms ("12 March 2026"); the others their language's default.
LOCALES = {"en": "en_GB", "fr": "fr_LU", "de": "de_LU", "pt": "pt_PT", "lb": "lb"}


def locale_of(language: str) -> str:
    return LOCALES.get(language, language or "fr_LU")


def as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def format_date(value: Any, language: str, style: str = "long") -> str:
    """``12 mars 2026`` (fr), ``12. März 2026`` (de), ``12 March 2026`` (en), ``12 de março de 2026`` (pt)."""
    if value in (None, ""):
        return ""
    return _format_date(as_date(value), language, style)


@lru_cache(maxsize=4096)
def _format_date(day: dt.date, language: str, style: str) -> str:
    # A print run has a few dozen distinct dates: Babel's formatting is worth caching.
    return str(babel_format_date(day, format=style, locale=locale_of(language)))


def format_number(value: Any, language: str) -> str:
    return str(format_decimal(value, locale=locale_of(language)))


def format_money(value: Any, language: str, currency: str = "EUR") -> str:
    return str(format_currency(value, currency, locale=locale_of(language)))
