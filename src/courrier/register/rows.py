"""Validating one register row: text in, a normalised person or the reasons it is rejected.

Every rule a row can break has a test in ``tests/register/test_rows.py``. A row is either accepted as a
whole or rejected as a whole; a rejected row gets one reject per problem found.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from courrier.register.communes import commune_for_postcode
from courrier.register.fields import (
    DEFAULT_LANGUAGE,
    HOME_COUNTRY,
    LANGUAGES,
    SEXES,
    clean_text,
    country_codes,
    has_control_character,
    normalise_postcode,
    postcode_expectation,
)
from courrier.register.matricule import matricule_birth_date, matricule_problem

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

SOURCES = ("rnpp", "ccss")
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


def validate_row(raw: Mapping[str, str], line: int, today: dt.date) -> dict[str, Any] | list[Reject]:
    """The person a row describes (the ``persons`` columns it sets), or why it is rejected."""
    problems: list[tuple[str, str]] = []
    values = {name: clean_text(raw.get(name) or "") for name in COLUMNS}

    for name, value in values.items():
        if has_control_character(value):
            problems.append((name, "contains a control character"))
        elif len(value) > MAX_TEXT_LENGTH:
            problems.append((name, f"is longer than {MAX_TEXT_LENGTH} characters"))

    national_id = values["national_id"]
    problem = matricule_problem(national_id)
    if problem:
        problems.append(("national_id", problem))

    birth_date = _birth_date(values["birth_date"], today, problems)
    if birth_date and not problem and matricule_birth_date(national_id) != birth_date:
        problems.append(("birth_date", "does not match the birth date in the national id"))

    for name in ("family_name", "street", "locality"):
        if not values[name]:
            problems.append((name, "is empty"))

    sex = values["sex"].upper()
    if sex not in SEXES:
        problems.append(("sex", f"{values['sex']!r} is not one of F, M, X or empty"))
    language = values["language"].lower() or DEFAULT_LANGUAGE
    if language not in LANGUAGES:
        problems.append(("language", f"{values['language']!r} is not one of {', '.join(LANGUAGES)} or empty"))
    deceased = _DECEASED.get(values["deceased"].lower())
    if deceased is None:
        problems.append(("deceased", f"{values['deceased']!r} is not 0 or 1"))

    source = values["source"].lower()
    if source and source not in SOURCES:
        problems.append(("source", f"{values['source']!r} is not one of {', '.join(SOURCES)} or empty"))

    country = values["country"].upper() or HOME_COUNTRY
    postcode: str | None = None
    if country not in country_codes():
        problems.append(("country", f"{values['country']!r} is not an ISO 3166 alpha-2 country code"))
    else:
        postcode = normalise_postcode(values["postcode"], country)
        if postcode is None:
            expected = postcode_expectation(country)
            problems.append(("postcode", f"{values['postcode']!r} is not a {country} postcode ({expected})"))

    if problems:
        readable_id = national_id if national_id.isdigit() and len(national_id) <= 13 else ""
        return [Reject(line, readable_id, field, reason) for field, reason in problems]
    assert birth_date is not None
    assert postcode is not None
    assert deceased is not None
    return {
        "national_id": national_id,
        "family_name": values["family_name"],
        "given_names": values["given_names"],
        "birth_date": birth_date,
        "sex": sex,
        "language": language,
        "care_of": values["care_of"],
        "house_number": values["house_number"],
        "street": values["street"],
        "postcode": postcode,
        "locality": values["locality"],
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


def undecodable_field(raw: Mapping[str, str]) -> str | None:
    """The first field holding bytes that were not UTF-8 (read with ``surrogateescape``), if any."""
    for name, value in raw.items():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return name
    return None
