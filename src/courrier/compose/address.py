"""The recipient's address block, in the form the destination country's post expects.

Luxembourg: ``12, rue de la Gare`` / ``L-1234 Luxembourg``. France: ``12 rue de la Paix`` /
``57100 THIONVILLE`` (locality in capitals, as La Poste asks). Belgium and Germany: ``Rue Haute 12`` /
``6700 Arlon``. Abroad, the country's name in capitals in French (the letters leave from Luxembourg) on
the last line. At most six lines: a block that would need more is an error for that letter, as is one
without a name or without a postcode and locality.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from courrier.errors import CompositionError

MAX_LINES = 6
COUNTRY_NAMES = {
    "FR": "FRANCE",
    "BE": "BELGIQUE",
    "DE": "ALLEMAGNE",
    "NL": "PAYS-BAS",
    "PT": "PORTUGAL",
    "IT": "ITALIE",
    "ES": "ESPAGNE",
    "CH": "SUISSE",
    "AT": "AUTRICHE",
    "GB": "ROYAUME-UNI",
}
_NUMBER_AFTER_STREET = frozenset({"BE", "DE", "NL", "AT", "CH", "PT", "IT", "ES"})


def address_lines(person: Mapping[str, Any]) -> list[str]:
    """The address block's lines for a record's ``person``."""
    country = str(person.get("country") or "LU").upper()
    name = " ".join(part for part in (person.get("given_names"), person.get("family_name")) if part)
    number = str(person.get("house_number") or "").strip()
    street = str(person.get("street") or "").strip()
    if country == "LU":
        street_line = f"{number}, {street}" if number else street
    elif country in _NUMBER_AFTER_STREET:
        street_line = f"{street} {number}".strip()
    else:
        street_line = f"{number} {street}".strip()
    locality = str(person.get("locality") or "")
    if country == "FR":
        locality = locality.upper()
    lines = [
        str(person.get("care_of") or ""),
        name,
        street_line,
        f"{person.get('postcode', '')} {locality}".strip(),
    ]
    if country != "LU":
        lines.append(COUNTRY_NAMES.get(country, country))
    if not name or not (person.get("postcode") or locality):
        # An envelope without a name or a town cannot be delivered: fail the letter, do not print it.
        missing = "name" if not name else "postcode and locality"
        raise CompositionError(f"the address has no {missing}", code="address_incomplete", field="address")
    lines = [line for line in lines if line]
    if len(lines) > MAX_LINES:
        raise CompositionError(
            f"the address needs {len(lines)} lines, at most {MAX_LINES} fit",
            code="address_too_long",
            field="address",
        )
    return lines
