"""Validating one register row: text in, a normalised person or the reasons it is rejected.

Every rule a row can break has a test in ``tests/register/test_rows.py``. A row is either accepted as a
whole or rejected as a whole; a rejected row gets one reject per problem found.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from courrier.country import HOME_COUNTRY, REGISTER_SOURCES
from courrier.languages import LANGUAGES
from courrier.register.communes import commune_for_postcode
from courrier.register.fields import (
    DEFAULT_LANGUAGE,
    SEXES,
    clean_text,
    country_codes,
    has_control_character,
    normalise_postcode,
    postcode_expectation,
)
from courrier.register.matricule import matricule_problem

COLUMNS = (
    "national_id",
    "family_name",
    "given_names",
    "birth_date",
    "sex",
    "language",
    "care_of",
    "house_number",
    "street",
    "postcode",
    "locality",
    "country",
    "deceased",
    # Optional, not in the national register's own layout: lets one file hold residents and cross-border
    # workers (as `courrier register generate` writes). Empty means the import's --source.
    "source",
)
# A file without one of these cannot be imported at all; the others default to empty.
REQUIRED_COLUMNS = (
    "national_id",
    "family_name",
    "given_names",
    "birth_date",
    "street",
    "postcode",
    "locality",
)

OLDEST_BIRTH_DATE = dt.date(1890, 1, 1)
MAX_TEXT_LENGTH = 200
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECEASED = {"": False, "0": False, "1": True, "false": False, "true": True}


@dataclass(frozen=True)
class Reject:
    line: int
    national_id: str
    field: str
    reason: str


def validate_row(fields: Sequence[str], line: int, today: dt.date) -> dict[str, Any] | list[Reject]:
    """The person a row describes (the ``persons`` columns it sets), or why it is rejected.

    ``fields`` are the row's values in :data:`COLUMNS` order, empty for a column the file lacks.
    """
    problems: list[tuple[str, str]] = []
    (
        national_id,
        family_name,
        given_names,
        birth_text,
        sex_text,
        language_text,
        care_of,
        house_number,
        street,
        postcode_text,
        locality,
        country_text,
        deceased_text,
        source_text,
    ) = _clean_fields(fields, problems)

    problem = matricule_problem(national_id)
    if problem:
        problems.append(("national_id", problem))
    birth_date = _birth_date(birth_text, today, problems)
    if birth_date and not problem and national_id[:8] != birth_text.replace("-", ""):
        problems.append(("birth_date", "does not match the birth date in the national id"))

    for name, value in (("family_name", family_name), ("street", street), ("locality", locality)):
        if not value:
            problems.append((name, "is empty"))

    sex = sex_text.upper()
    if sex not in SEXES:
        problems.append(("sex", f"{sex_text!r} is not one of F, M, X or empty"))
    language = language_text.lower() or DEFAULT_LANGUAGE
    if language not in LANGUAGES:
        problems.append(("language", f"{language_text!r} is not one of {', '.join(LANGUAGES)} or empty"))
    deceased = _DECEASED.get(deceased_text.lower())
    if deceased is None:
        problems.append(("deceased", f"{deceased_text!r} is not 0 or 1"))
    source = source_text.lower()
    if source and source not in REGISTER_SOURCES:
        problems.append(("source", f"{source_text!r} is not one of {', '.join(REGISTER_SOURCES)} or empty"))

    country = country_text.upper() or HOME_COUNTRY
    postcode: str | None = None
    if country not in country_codes():
        problems.append(("country", f"{country_text!r} is not an ISO 3166 alpha-2 country code"))
    else:
        postcode = normalise_postcode(postcode_text, country)
        if postcode is None:
            expected = postcode_expectation(country)
            problems.append(("postcode", f"{postcode_text!r} is not a {country} postcode ({expected})"))

    if problems:
        readable = national_id.isascii() and national_id.isdigit() and len(national_id) <= 13
        return [Reject(line, national_id if readable else "", field, reason) for field, reason in problems]
    assert birth_date is not None
    assert postcode is not None
    assert deceased is not None
    return {
        "national_id": national_id,
        "family_name": family_name,
        "given_names": given_names,
        "birth_date": birth_date,
        "sex": sex,
        "language": language,
        "care_of": care_of,
        "house_number": house_number,
        "street": street,
        "postcode": postcode,
        "locality": locality,
        "country": country,
        "commune": commune_for_postcode(postcode) if country == HOME_COUNTRY else "",
        "deceased": deceased,
        "source": source,
    }


def _birth_date(value: str, today: dt.date, problems: list[tuple[str, str]]) -> dt.date | None:
    if not _ISO_DATE.fullmatch(value):
        problems.append(("birth_date", f"{value!r} is not a date written YYYY-MM-DD"))
        return None
    try:
        birth_date = dt.date.fromisoformat(value)
    except ValueError:
        problems.append(("birth_date", f"{value} does not exist"))
        return None
    if not OLDEST_BIRTH_DATE <= birth_date <= today:
        problems.append(("birth_date", f"{value} is not between {OLDEST_BIRTH_DATE} and today"))
        return None
    return birth_date


def _clean_fields(fields: Sequence[str], problems: list[tuple[str, str]]) -> Sequence[str]:
    probe = "|".join(fields)
    # Most rows are tidy: one look at the whole row instead of one per field. isprintable() is False
    # for control characters, tabs, no-break spaces and undecodable bytes (lone surrogates).
    if (
        probe.isprintable()
        and (probe.isascii() or unicodedata.is_normalized("NFC", probe))
        and len(probe) <= MAX_TEXT_LENGTH
        and "  " not in probe
        and " |" not in probe
        and "| " not in probe
        and probe[:1] != " "
        and probe[-1:] != " "
    ):
        return fields
    cleaned = [clean_text(value) for value in fields]
    for name, value in zip(COLUMNS, cleaned, strict=True):
        if not _is_utf8(value):
            problems.append((name, "is not UTF-8 (a byte in another encoding)"))
        elif has_control_character(value):
            problems.append((name, "contains a control character"))
        elif len(value) > MAX_TEXT_LENGTH:
            problems.append((name, f"is longer than {MAX_TEXT_LENGTH} characters"))
    return cleaned


def _is_utf8(value: str) -> bool:
    # The reader decodes with ``surrogateescape``: a byte that was not UTF-8 became a lone surrogate.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
