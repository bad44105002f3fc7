"""Luxembourg's 100 communes, their localities and postcode ranges (``data/communes.csv``).

Commune and locality names are real; the postcode ranges follow the country's regions (1-2 the capital,
3-4 the south, 5 the south-east, 6 the east, 7 the centre, 8 the west, 9 the north) but are simplified
to one range per commune, and populations are rounded. ``latitude``/``longitude`` are those of the
commune's main locality (WGS 84, to about a kilometre), for "the centre nearest to you first". Used to
derive a person's commune from a postcode and to generate synthetic registers.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Commune:
    name: str
    canton: str
    postcode_from: int
    postcode_to: int
    population: int
    localities: tuple[str, ...]
    latitude: float
    longitude: float


@cache
def communes() -> tuple[Commune, ...]:
    text = resources.files("courrier.register").joinpath("data/communes.csv").read_text("utf-8")
    return tuple(
        Commune(
            name=row["commune"],
            canton=row["canton"],
            postcode_from=int(row["postcode_from"]),
            postcode_to=int(row["postcode_to"]),
            population=int(row["population"]),
            localities=tuple(row["localities"].split("|")),
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
        )
        for row in csv.DictReader(text.splitlines())
    )


@cache
def _commune_by_postcode() -> dict[int, str]:
    return {
        number: commune.name
        for commune in communes()
        for number in range(commune.postcode_from, commune.postcode_to + 1)
    }


def commune_for_postcode(postcode: str) -> str:
    """The commune of a normalised Luxembourg postcode (``L-1234``); empty when it is not known."""
    digits = postcode[2:]
    return _commune_by_postcode().get(int(digits), "") if digits.isdigit() else ""


@cache
def commune_by_name() -> dict[str, Commune]:
    return {commune.name: commune for commune in communes()}
