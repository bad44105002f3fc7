"""Synthetic persons written straight into the register tables, and campaign files around them."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from courrier.campaigns.definition import CampaignDefinition, parse_definition
from courrier.db.schema import persons, register_imports

NOW = dt.datetime(2021, 1, 10, 8, 0, tzinfo=dt.UTC)
_numbers = itertools.count(1)


def add_persons(engine: Engine, *people: dict[str, Any]) -> list[int]:
    """Insert persons (one register import) and return their ids; unspecified fields get dull defaults."""
    with engine.begin() as connection:
        import_id = connection.execute(
            register_imports.insert().values(
                file_name="synthetic.csv",
                file_sha256="0" * 64,
                source="rnpp",
                started_at=NOW,
                finished_at=NOW,
                chunk_rows=1000,
                chunks_done=1,
                rows_read=len(people),
                inserted=len(people),
                updated=0,
                unchanged=0,
                rejected=0,
            )
        ).inserted_primary_key[0]
        ids = []
        for person in people:
            number = next(_numbers)
            values = {
                "national_id": f"{number:013d}",
                "source": "rnpp",
                "family_name": f"Synthetic{number}",
                "given_names": "Test",
                "birth_date": dt.date(1940, 1, 1),
                "sex": "F",
                "language": "fr",
                "care_of": "",
                "house_number": "1",
                "street": "rue de la Gare",
                "postcode": "L-1234",
                "locality": "Luxembourg",
                "country": "LU",
                "commune": "Luxembourg",
                "deceased": False,
                "address_unknown": False,
                "last_import_id": import_id,
                "imported_at": NOW,
                "changed_at": NOW,
                "changed_fields": "",
            } | person
            ids.append(connection.execute(persons.insert().values(**values)).inserted_primary_key[0])
    return ids


def change_person(engine: Engine, person_id: int, **changes: Any) -> None:
    with engine.begin() as connection:
        connection.execute(update(persons).where(persons.c.id == person_id).values(**changes))


# For the commands, which run on today's date: no fixed send date, so codes are valid from today.
def undated(text: str) -> str:
    return text.replace("start = 2021-01-18\n", "")


CAMPAIGN = """
name = "vaccination-75plus"
kind = "invitation"
template = "template"
languages = ["fr", "de"]
[cohort]
sources = ["rnpp"]
reference_date = 2021-01-15
min_age = 75
order = "oldest_first"
[waves]
size = 2
start = 2021-01-18
days_per_wave = 7
[codes]
validity_days = 14
max_uses = 2
[qr]
content = "https://rdv.example.lu/c/{code}"
"""


@pytest.fixture
def template_dir(tmp_path: Path) -> Path:
    """A real template (campaign create refuses a folder `template check` rejects), ours to change."""
    folder = tmp_path / "template"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "templates" / "mass-testing", folder)
    return folder


MakeDefinition = Callable[..., CampaignDefinition]


@pytest.fixture
def make_definition(template_dir: Path) -> MakeDefinition:
    """A campaign definition from CAMPAIGN with lines replaced: make_definition(min_age="min_age = 70")."""

    def make(text: str = CAMPAIGN, **replacements: str) -> CampaignDefinition:
        lines = text.splitlines()
        for key, line in replacements.items():
            lines = [line if existing.split("=")[0].strip() == key else existing for existing in lines]
        return parse_definition("\n".join(lines) + "\n", base=template_dir.parent)

    return make
