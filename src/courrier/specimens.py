"""Specimen records drawn from the synthetic register: for the long-name tests, the golden pages, the
typesetting benchmark and the docs' page of longest names.

The records are what ``courrier compose`` gives a template (the person's register fields, the piece's
printed reference with its check digit, a personal code that passes ``courrier codes check``, its QR
content and the campaign's dates), drawn
deterministically from :class:`~courrier.register.generate.RegisterGenerator`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from courrier.codes.format import format_code, random_codes
from courrier.languages import LANGUAGES
from courrier.production.piece_ids import format_piece_id
from courrier.register.fields import normalise_postcode
from courrier.register.generate import RegisterGenerator

SEXES = ("F", "M", "X", "")
_PERSON_KEYS = ("family_name", "given_names", "sex", "language", "care_of", "house_number", "street")


def register_people(count: int, seed: int = 10) -> Iterator[dict[str, Any]]:
    """``count`` people of the synthetic register (residents and about a sixth cross-border workers),
    as the ``person`` of a record."""
    generator = RegisterGenerator(seed)
    cross_border = count // 6
    for index, row in enumerate(generator.rows(count - cross_border, cross_border), start=1):
        yield {
            "id": index,
            **{key: row[key] for key in _PERSON_KEYS},
            "postcode": normalise_postcode(row["postcode"], row["country"]) or row["postcode"],
            "locality": row["locality"],
            "country": row["country"],
        }


def record_for(person: dict[str, Any], number: int, rnd: random.Random) -> dict[str, Any]:
    """A record for ``person`` with a valid personal code (drawn from ``rnd``: the same every run)."""
    compact = random_codes(1, rnd.randbytes)[0]
    return {
        "piece_id": str(number),
        "piece_ref": format_piece_id(number),
        "person": person,
        "code": format_code(compact),
        "qr": f"https://rdv.example.lu/c/{compact}",
        "letter_date": "2026-03-12",
        "valid_from": "2026-03-12",
        "valid_until": "2026-04-01",
    }


def longest_names(per_language: int, pool: int = 60_000, seed: int = 10) -> list[dict[str, Any]]:
    """Records of the people with the longest full names of a ``pool``-person register, ``per_language``
    in each of :data:`LANGUAGES` (longest first, by characters)."""
    by_language: dict[str, list[dict[str, Any]]] = {language: [] for language in LANGUAGES}
    for person in register_people(pool, seed):
        by_language.setdefault(person["language"], []).append(person)
    rnd = random.Random(seed)
    records: list[dict[str, Any]] = []
    for language in LANGUAGES:
        people = sorted(
            by_language[language], key=lambda p: (-len(f"{p['given_names']} {p['family_name']}"), p["id"])
        )
        for person in people[:per_language]:
            records.append(record_for(person, len(records) + 1, rnd))
    return records
