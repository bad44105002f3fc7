from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from courrier.register.matricule import make_matricule
from courrier.register.rows import COLUMNS

HEADER = [name for name in COLUMNS if name != "source"]


def person_row(number: int, **changes: str) -> dict[str, str]:
    birth_date = dt.date(1950, 1, 1) + dt.timedelta(days=number * 37)
    values = {
        "national_id": make_matricule(birth_date, number % 1000),
        "family_name": f"Family{number}",
        "given_names": "Anna",
        "birth_date": birth_date.isoformat(),
        "sex": "F",
        "language": "fr",
        "care_of": "",
        "house_number": str(number % 90 + 1),
        "street": "rue de la Gare",
        "postcode": "L-1234",
        "locality": "Luxembourg",
        "country": "LU",
        "deceased": "0",
    }
    return values | changes


WriteCsv = Callable[..., Path]


@pytest.fixture
def write_csv(tmp_path: Path) -> WriteCsv:
    def write(
        rows: list[dict[str, str]],
        name: str = "register.csv",
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        header: list[str] | None = None,
    ) -> Path:
        path = tmp_path / name
        columns = header or list(rows[0]) if rows else (header or HEADER)
        with path.open("w", encoding=encoding, newline="", errors="surrogateescape") as file:
            writer = csv.DictWriter(file, fieldnames=columns, delimiter=delimiter, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        return path

    return write
