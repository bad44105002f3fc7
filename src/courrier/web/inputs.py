"""What a request's numbers and texts may be, in one place, so that bad input is refused as invalid (422)
before it reaches the database, and never answers 500.

- Ids (of bookings, slots, check-ins, records, redemptions, requests, tasks, callers' codes) are the
  tables' ``Integer`` primary keys: int4 on PostgreSQL, so 1 to 2**31 - 1 (an id beyond it made psycopg
  raise ``integer out of range``; beyond 2**63 SQLite raised ``OverflowError``). :data:`Id` for a body's
  field, :data:`IdPath` for a path parameter; :func:`form_id` for a page's form field or query.
- Doses are numbered from 1, and no campaign has more than a few (:data:`Dose`, :data:`DosePath`,
  :data:`DoseQuery`): a dose within the range but beyond the campaign's is still the booking's own
  ``bad_dose``.
- A JSON body's text may not hold a lone surrogate (``"\\ud800"``: JSON's escapes can write one, and the
  standard library's reader, FastAPI's, takes it): no database stores one (SQLite's and psycopg's UTF-8
  encoding fail) and no answer can carry one. Every request body model derives from :class:`Body`,
  which refuses such a body as FastAPI refuses a field (422 ``invalid_request``, under ``body``).
- Days asked about (``?date=`` of the free slots, the centre's day, its offline list, its no-shows;
  the pages' days) are 1900-01-01 to 2999-12-31 (:data:`DayQuery`, :func:`form_day`): a day's bounds
  are computed a day and a time zone away, and 9999-12-31 or 0001-01-01 overflowed Python's dates (a
  500). The spec cannot give a date's range; docs/web.md does.
- A page's form is UTF-8: Starlette decodes a multipart form's fields in the ``charset`` its
  Content-Type names, and ``charset=unicode_escape`` makes ``\\ud800`` a lone surrogate, which the
  sign-in's query failed on; a form in another charset is refused (:func:`form_charset_ok`; browsers
  send none).

A path id out of range is a 422 like a path id that is not a number (``/bookings/abc``), not a 404: the
range is part of the API (the OpenAPI spec gives ``minimum`` and ``maximum``), it is refused before any
database work, alike on SQLite and PostgreSQL; a well-formed id that names nothing is still the route's
404.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email.message
import re
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

ID_MAX = 2**31 - 1
DOSE_MAX = 99

Id = Annotated[int, Field(ge=1, le=ID_MAX)]
IdPath = Annotated[int, Path(ge=1, le=ID_MAX)]
Dose = Annotated[int, Field(ge=1, le=DOSE_MAX)]
DosePath = Annotated[int, Path(ge=1, le=DOSE_MAX)]
DoseQuery = Annotated[int, Query(ge=1, le=DOSE_MAX)]
DAY_MIN = dt.date(1900, 1, 1)
DAY_MAX = dt.date(2999, 12, 31)
DayQuery = Annotated[dt.date, Query(ge=DAY_MIN, le=DAY_MAX)]
OptionalDayQuery = Annotated[dt.date | None, Query(ge=DAY_MIN, le=DAY_MAX)]

_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def form_id(text: str | None, maximum: int = ID_MAX) -> int | None:
    """The number a page's form field or query holds (ASCII digits, 1 to ``maximum``), or None.
    (``str.isdigit`` takes ``"²"``, which ``int`` refuses.)"""
    if text is None or _ASCII_DIGITS.fullmatch(text) is None:
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None


def form_day(text: str | None) -> dt.date | None:
    """The day a page's form field or query holds (ISO, :data:`DAY_MIN` to :data:`DAY_MAX`), or None."""
    try:
        day = dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if DAY_MIN <= day <= DAY_MAX else None


def form_charset_ok(content_type: str | None) -> bool:
    """Whether a page may read a form of this content type: not multipart, or multipart in UTF-8 (or
    without a charset, as browsers send it)."""
    if not content_type or "charset" not in content_type.lower():
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    if message.get_content_maintype() != "multipart" or not isinstance(charset, str):
        return True
    try:
        return codecs.lookup(charset).name == "utf-8"
    except LookupError:
        return True  # Starlette reads an unknown charset as Latin-1: no surrogate comes of it


def _surrogate_in(value: Any, where: tuple[str, ...]) -> tuple[str, ...] | None:
    """Where in a JSON value a text (a string or an object's key) holds a lone surrogate, or None."""
    if isinstance(value, str):
        # isascii is a flag lookup: most texts end there.
        return where if not value.isascii() and _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and not key.isascii() and _SURROGATE.search(key):
                return (*where, "<key>")
            found = _surrogate_in(item, (*where, str(key)))
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _surrogate_in(item, (*where, str(index)))
            if found is not None:
                return found
    return None


class Body(BaseModel):
    """A request body: its texts hold no lone surrogate (checked on the JSON as read, keys included,
    before the fields: nested bodies are checked with the outer one)."""

    @model_validator(mode="before")
    @classmethod
    def _no_lone_surrogate(cls, value: Any) -> Any:
        found = _surrogate_in(value, ())
        if found is not None:
            # The place, backslash-escaped like any text of an error answer (web/errors.py).
            where = ".".join(found).encode("utf-8", "backslashreplace").decode("utf-8") or "the body"
            raise PydanticCustomError(
                "string_unicode",
                "Input should be valid Unicode text: a lone surrogate in {where}",
                {"where": where},
            )
        return value
