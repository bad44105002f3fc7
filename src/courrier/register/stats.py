"""Counts over the register: by source, commune, country, age band, language and flag."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, case, func, literal, select

from courrier.country import HOME_COUNTRY
from courrier.db.schema import persons, register_imports
from courrier.result import Result

# The bands the reference campaigns invite by (vouchers from 16, vaccination phases from 18).
AGE_BANDS = ((0, 15), (16, 17), (18, 54), (55, 64), (65, 69), (70, 74), (75, None))


def birthday_years_ago(on: dt.date, years: int) -> dt.date:
    """The last birth date of someone aged ``years`` on ``on`` (29 February counts as 1 March)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # ``on`` is 29 February and that year has none
        return dt.date(on.year - years, 3, 1)


def age_band_label(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else f"{low}-{high}"


@dataclass(frozen=True)
class RegisterStats(Result):
    on: dt.date  # the day ages are taken on
    persons: int
    by_source: dict[str, int]
    by_commune: dict[str, int]  # "(abroad)" for those living abroad
    by_country: dict[str, int]
    by_age_band: dict[str, int]
    by_language: dict[str, int]
    flags: dict[str, int]
    last_import: dict[str, Any] | None


def register_stats(engine: Engine, on: dt.date) -> RegisterStats:
    """Counts of persons; ages are taken on ``on``."""
    band = case(
        *[
            (persons.c.birth_date > birthday_years_ago(on, low), literal(age_band_label(*previous)))
            for previous, (low, _) in itertools.pairwise(AGE_BANDS)
        ],
        else_=literal(age_band_label(*AGE_BANDS[-1])),
    )
    commune = case((persons.c.country == HOME_COUNTRY, persons.c.commune), else_=literal("(abroad)"))
    with engine.connect() as connection:

        def counts(column: Any) -> dict[str, int]:
            rows = connection.execute(select(column, func.count()).group_by(column).order_by(column))
            return {str(key): int(count) for key, count in rows}

        total = connection.execute(select(func.count()).select_from(persons)).scalar_one()
        flags = connection.execute(
            select(
                func.count().filter(persons.c.deceased.is_(True)),
                func.count().filter(persons.c.address_unknown.is_(True)),
            )
        ).one()
        last_import = connection.execute(
            select(register_imports.c.file_name, register_imports.c.finished_at)
            .where(register_imports.c.finished_at.is_not(None))
            .order_by(register_imports.c.id.desc())
            .limit(1)
        ).first()
        by_age = counts(band.label("band"))
        result = RegisterStats(
            on=on,
            persons=int(total),
            by_source=counts(persons.c.source),
            by_commune=counts(commune.label("commune")),
            by_country=counts(persons.c.country),
            by_age_band={label: by_age.get(label, 0) for label in (age_band_label(*b) for b in AGE_BANDS)},
            by_language=counts(persons.c.language),
            flags={"deceased": int(flags[0]), "address_unknown": int(flags[1])},
            last_import=(
                {"file": last_import.file_name, "finished_at": last_import.finished_at.isoformat()}
                if last_import
                else None
            ),
        )
    return result
