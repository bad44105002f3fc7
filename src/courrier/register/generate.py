"""A synthetic national register shaped like Luxembourg's, for demos, tests and benchmarks.

Residents live in the 100 communes, in proportion to their population; about 47% are foreign nationals
with names from Faker's locales for their country and a preferred language to match. Cross-border
workers (source ``ccss``) live in France, Belgium or Germany with those countries' address forms. Ages
follow the country's age pyramid at ``as_of``. Everything is drawn from one seeded generator, so the same
arguments write the same file, byte for byte.

``bad_rows`` plants one realistic defect in that share of rows (see :data:`DEFECT_KINDS`); all but stray
whitespace, which the import normalises, make the row a reject.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import tomllib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from faker import Faker

from courrier.errors import InputFileError
from courrier.register.communes import communes
from courrier.register.matricule import make_matricule
from courrier.register.rows import COLUMNS

AS_OF = dt.date(2026, 1, 1)
# The import's columns, `source` included: one file holds residents and cross-border workers.
OUTPUT_COLUMNS = COLUMNS
DEFECT_KINDS = (
    "impossible_date",
    "wrong_check_digit",
    "malformed_postcode",
    "empty_street",
    "duplicate_id",
    "stray_whitespace",
    "wrong_encoding",
)


@dataclass(frozen=True)
class Group:
    share: float
    locales: tuple[str, ...]
    languages: dict[str, float]


# Residents by nationality; the Luxembourgish share makes the foreign population about 47%.
RESIDENTS = (
    Group(0.430, ("de_LU",), {"lb": 0.55, "fr": 0.25, "de": 0.15, "en": 0.05}),
    Group(0.145, ("pt_PT",), {"pt": 0.65, "fr": 0.35}),
    Group(0.075, ("fr_FR",), {"fr": 1.0}),
    Group(0.035, ("it_IT",), {"fr": 0.7, "en": 0.3}),
    Group(0.030, ("fr_BE", "nl_BE"), {"fr": 0.8, "en": 0.2}),
    Group(0.020, ("de_DE",), {"de": 1.0}),
    Group(0.015, ("es_ES",), {"fr": 0.6, "en": 0.4}),
    Group(0.012, ("pl_PL",), {"en": 0.8, "de": 0.2}),
    Group(0.012, ("ro_RO",), {"en": 0.6, "fr": 0.4}),
    Group(0.010, ("en_GB", "en_IE"), {"en": 1.0}),
    Group(0.010, ("nl_NL",), {"en": 0.7, "de": 0.3}),
    Group(0.008, ("hr_HR",), {"de": 0.5, "en": 0.5}),
    Group(0.005, ("tr_TR",), {"de": 0.5, "fr": 0.5}),
    Group(0.005, ("vi_VN",), {"fr": 0.5, "en": 0.5}),
)
CROSS_BORDER = {
    "FR": (0.52, Group(1.0, ("fr_FR", "fr_FR", "fr_FR", "pt_PT", "it_IT"), {"fr": 1.0})),
    "BE": (0.24, Group(1.0, ("fr_BE", "fr_BE", "nl_BE"), {"fr": 0.85, "en": 0.15})),
    "DE": (0.24, Group(1.0, ("de_DE",), {"de": 1.0})),
}
# Share of residents per five-year age band from 0-4 to 100-104.
AGE_PYRAMID = (
    5.5,
    5.7,
    5.6,
    5.6,
    6.0,
    7.2,
    8.0,
    8.0,
    7.8,
    7.5,
    7.4,
    7.0,
    5.8,
    4.5,
    3.6,
    2.6,
    1.8,
    1.1,
    0.5,
    0.15,
    0.02,
)
WORKING_AGES = (20, 64)
_POOL_SIZE = 300
# How names are built beyond one given and one family name, per locale: (share with two family names,
# the particles that may join them, share with a hyphenated family name, share with two given names).
# Portuguese and Spanish names carry two or more surnames ("Maria da Conceição Ferreira dos Santos"),
# German ones are sometimes double-barrelled ("Müller-Lüdenscheidt"), Vietnamese given names have a
# middle name ("Thị Minh"): the long names a print shop must still fit in the window.
_COMPOUND_NAMES = {
    "pt_PT": (0.7, ("", "", "dos", "da", "de"), 0.0, 0.6),
    "es_ES": (0.95, ("", "", "", "de"), 0.0, 0.4),
    "de_DE": (0.0, (), 0.06, 0.3),
    "de_LU": (0.0, (), 0.04, 0.3),
    "vi_VN": (0.0, (), 0.0, 0.8),
}
_PLAIN_NAMES: tuple[float, tuple[str, ...], float, float] = (0.0, (), 0.0, 0.3)


class _Names:
    """Pools of names drawn once per locale from a seeded Faker: fast to sample, still deterministic."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._pools: dict[str, tuple[list[str], list[str], list[str]]] = {}

    def pools(self, locale: str) -> tuple[list[str], list[str], list[str]]:
        if locale not in self._pools:
            fake = Faker(locale)
            fake.seed_instance(f"{self._seed}:{locale}")
            family = [fake.last_name() for _ in range(_POOL_SIZE)]
            female = [fake.first_name_female() for _ in range(_POOL_SIZE)]
            male = [fake.first_name_male() for _ in range(_POOL_SIZE)]
            self._pools[locale] = (family, female, male)
        return self._pools[locale]


class RegisterGenerator:
    def __init__(self, seed: int, as_of: dt.date = AS_OF) -> None:
        self.random = random.Random(seed)
        # Its own stream, so that the shape of names does not move anything else the seed decides.
        self.name_random = random.Random(f"{seed}:compound-names")
        self.as_of = as_of
        self.names = _Names(seed)
        self.sequences: Counter[dt.date] = Counter()
        addresses = tomllib.loads(
            resources.files("courrier.register").joinpath("data/addresses.toml").read_text("utf-8")
        )
        self.addresses: dict[str, Any] = addresses
        self.communes = communes()
        self.commune_weights = [commune.population for commune in self.communes]

    def person(self, group: Group, country: str, ages: tuple[int, int] | None) -> dict[str, str]:
        rnd = self.random
        locale = rnd.choice(group.locales)
        family, female, male = self.names.pools(locale)
        roll = rnd.random()
        sex = "F" if roll < 0.5 else "M" if roll < 0.995 else "X" if roll < 0.998 else ""
        firsts = female if sex == "F" else male if sex == "M" else rnd.choice((female, male))
        given = rnd.choice(firsts)
        if rnd.random() < 0.3:
            second = rnd.choice(firsts)
            if second != given:
                given = f"{given} {second}"
        birth_date = self._birth_date(ages)
        # Sequence numbers of a birth date start at a random offset, so different seeds give different ids.
        if birth_date not in self.sequences:
            self.sequences[birth_date] = rnd.randrange(1000)
        sequence = self.sequences[birth_date]
        self.sequences[birth_date] += 1
        languages = list(group.languages)
        row = {
            "national_id": make_matricule(birth_date, sequence % 1000),
            "family_name": rnd.choice(family),
            "given_names": given,
            "birth_date": birth_date.isoformat(),
            "sex": sex,
            "language": rnd.choices(languages, weights=[group.languages[code] for code in languages])[0],
            "care_of": "",
            "deceased": "1" if rnd.random() < 0.003 else "0",
            **self._address(country),
        }
        self._compound_name(row, locale, firsts)
        return row

    def _compound_name(self, row: dict[str, str], locale: str, firsts: list[str]) -> None:
        """Give the name the shape of the locale's names (see :data:`_COMPOUND_NAMES`)."""
        names = self.name_random
        two_family, particles, hyphenated, given_share = _COMPOUND_NAMES.get(locale, _PLAIN_NAMES)
        three_family = 0.25 if locale == "pt_PT" else 0.0
        if " " not in row["given_names"] and names.random() < (given_share - 0.3) / 0.7:
            second = names.choice(firsts)
            if second != row["given_names"]:
                row["given_names"] = f"{row['given_names']} {second}"
        family = self.names.pools(locale)[0]
        if names.random() < two_family:
            parts = [row["family_name"], names.choice(particles), names.choice(family)]
            if names.random() < three_family:  # "Ferreira dos Santos Gonçalves"
                parts += [names.choice(particles), names.choice(family)]
            row["family_name"] = " ".join(part for part in parts if part)
        elif names.random() < hyphenated:
            row["family_name"] = f"{row['family_name']}-{names.choice(family)}"

    def _birth_date(self, ages: tuple[int, int] | None) -> dt.date:
        rnd = self.random
        if ages is None:
            band = rnd.choices(range(len(AGE_PYRAMID)), weights=AGE_PYRAMID)[0]
            age = band * 5 + rnd.randrange(5)
        else:
            age = rnd.randint(*ages)
        birthday = self.as_of - dt.timedelta(days=age * 365 + rnd.randrange(365))
        return birthday

    def _address(self, country: str) -> dict[str, str]:
        rnd = self.random
        number = str(rnd.randint(1, 150 if country == "LU" else 80))
        if rnd.random() < 0.06:
            number += rnd.choice("ABC")
        if country == "LU":
            commune = rnd.choices(self.communes, weights=self.commune_weights)[0]
            locality = commune.localities[0] if rnd.random() < 0.6 else rnd.choice(commune.localities)
            postcode = str(rnd.randint(commune.postcode_from, commune.postcode_to))
            street = rnd.choice(self.addresses["luxembourg_streets"])
        else:
            key = {"FR": "france", "BE": "belgium", "DE": "germany"}[country]
            locality, postcode = rnd.choice(self.addresses[f"{key}_towns"])
            street = rnd.choice(self.addresses[f"{key}_streets"])
        return {
            "house_number": number,
            "street": street,
            "postcode": postcode,
            "locality": locality,
            "country": country,
        }

    def rows(self, people: int, cross_border: int) -> Iterator[dict[str, str]]:
        rnd = self.random
        weights = [group.share for group in RESIDENTS]
        for _ in range(people):
            row = self.person(rnd.choices(RESIDENTS, weights=weights)[0], "LU", None)
            if rnd.random() < 0.01:
                row["care_of"] = f"c/o {rnd.choice(self.names.pools('de_LU')[0])}"
            yield row | {"source": "rnpp"}
        countries = list(CROSS_BORDER)
        country_weights = [CROSS_BORDER[country][0] for country in countries]
        for _ in range(cross_border):
            country = rnd.choices(countries, weights=country_weights)[0]
            yield self.person(CROSS_BORDER[country][1], country, WORKING_AGES) | {"source": "ccss"}


def plant_defect(row: dict[str, str], kind: str, earlier: dict[str, str] | None, rnd: random.Random) -> None:
    """Spoil ``row`` the way real extracts go wrong."""
    if kind == "impossible_date":
        row["birth_date"] = rnd.choice(("1987-02-30", "2001-13-04", "1964-04-31", "19.03.1971"))
    elif kind == "wrong_check_digit":
        last = int(row["national_id"][-1])
        row["national_id"] = row["national_id"][:-1] + str((last + rnd.randint(1, 9)) % 10)
    elif kind == "malformed_postcode":
        row["postcode"] = rnd.choice(("L-12A4", "123", "L-123456", "LUX"))
    elif kind == "empty_street":
        row["street"] = rnd.choice(("", "   "))
    elif kind == "duplicate_id" and earlier is not None:
        row["national_id"] = earlier["national_id"]
        row["birth_date"] = earlier["birth_date"]
    elif kind == "stray_whitespace":
        row["family_name"] = f"  {row['family_name']} "
        row["street"] = row["street"].replace(" ", "  ", 1) + "\t"
    elif kind == "wrong_encoding":
        # A Latin-1 "é" inside otherwise UTF-8 text: written as the raw byte 0xE9.
        row["locality"] = row["locality"] + "\udce9"


def generate_register(
    path: Path,
    *,
    people: int,
    cross_border: int = 0,
    seed: int = 1,
    bad_rows: float = 0.0,
    as_of: dt.date = AS_OF,
) -> Counter[str]:
    """Write a synthetic register to ``path`` (CSV or Parquet by its extension); returns defects planted."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputFileError(f"{path}: the file name must end in .csv or .parquet", code="unknown_format")
    if not 0.0 <= bad_rows <= 1.0:
        raise InputFileError(f"--bad-rows must be between 0 and 1, got {bad_rows}", code="bad_fraction")
    generator = RegisterGenerator(seed, as_of)
    kinds = DEFECT_KINDS if suffix == ".csv" else DEFECT_KINDS[:-1]  # Parquet text is always UTF-8
    planted: Counter[str] = Counter()
    defects = random.Random(f"defects:{seed}")

    def rows() -> Iterator[dict[str, str]]:
        earlier: dict[str, str] | None = None
        for row in generator.rows(people, cross_border):
            if bad_rows and defects.random() < bad_rows:
                kind = kinds[sum(planted.values()) % len(kinds)]
                if kind == "duplicate_id" and earlier is None:
                    kind = "empty_street"
                plant_defect(row, kind, earlier, defects)
                planted[kind] += 1
            else:
                earlier = row
            yield row

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            _write_csv(path, rows())
        else:
            _write_parquet(path, rows())
    except OSError as error:  # a folder that cannot be made or written (a file in the way, no rights)
        raise InputFileError(
            f"cannot write {path}: {error.strerror or error}", code="unwritable_folder"
        ) from error
    return planted


def _write_csv(path: Path, rows: Iterator[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", errors="surrogateescape", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=OUTPUT_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _write_parquet(path: Path, rows: Iterator[dict[str, str]], batch_rows: int = 50_000) -> None:
    schema = pa.schema([(name, pa.string()) for name in OUTPUT_COLUMNS])
    with pq.ParquetWriter(path, schema) as writer:
        batch: list[dict[str, str]] = []
        for row in rows:
            batch.append(row)
            if len(batch) == batch_rows:
                writer.write_batch(_record_batch(batch, schema))
                batch = []
        if batch:
            writer.write_batch(_record_batch(batch, schema))


def _record_batch(batch: Sequence[dict[str, str]], schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {name: [row[name] for row in batch] for name in OUTPUT_COLUMNS}, schema=schema
    )
