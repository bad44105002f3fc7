from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from courrier.campaigns.cohort import age_on, eligible, latest_birth_date
from courrier.campaigns.definition import Cohort
from courrier.db.schema import persons

from .conftest import add_persons

dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


def test_age_counts_whole_years_and_leap_day_birthdays_move_to_march_first():
    assert age_on(dt.date(2026, 3, 12), dt.date(2026, 3, 12)) == 0
    assert age_on(dt.date(2026, 3, 12), dt.date(2027, 3, 11)) == 0
    assert age_on(dt.date(2026, 3, 12), dt.date(2027, 3, 12)) == 1
    assert age_on(dt.date(2000, 2, 29), dt.date(2001, 2, 28)) == 0
    assert age_on(dt.date(2000, 2, 29), dt.date(2001, 3, 1)) == 1
    assert age_on(dt.date(2000, 2, 29), dt.date(2004, 2, 29)) == 4


@given(dates, dates, st.integers(0, 120))
def test_the_sql_birth_date_bound_is_exactly_the_age_rule(birth: dt.date, reference: dt.date, age: int):
    if reference.year - age < 1:
        return
    assert (birth <= latest_birth_date(reference, age)) == (age_on(birth, reference) >= age)


def test_cohort_edges_birthday_on_the_reference_date(engine):
    reference = dt.date(2021, 1, 15)
    turns_75, turns_75_tomorrow, turns_65, turns_65_tomorrow = add_persons(
        engine,
        {"birth_date": dt.date(1946, 1, 15)},
        {"birth_date": dt.date(1946, 1, 16)},
        {"birth_date": dt.date(1956, 1, 15)},
        {"birth_date": dt.date(1956, 1, 16)},
    )

    def selected(cohort: Cohort) -> set[int]:
        with engine.connect() as connection:
            return set(connection.execute(select(persons.c.id).where(eligible(cohort))).scalars())

    assert selected(Cohort(reference_date=reference, min_age=75)) == {turns_75}
    assert selected(Cohort(reference_date=reference, min_age=65, max_age=74)) == {turns_75_tomorrow, turns_65}
    assert selected(Cohort(reference_date=reference, max_age=64)) == {turns_65_tomorrow}


def test_cohort_filters_and_exclusions(engine):
    resident, cross_border, deceased, unknown, german, esch = add_persons(
        engine,
        {},
        {"source": "ccss", "country": "FR", "commune": "", "postcode": "57100"},
        {"deceased": True},
        {"address_unknown": True},
        {"language": "de"},
        {"commune": "Esch-sur-Alzette"},
    )

    def selected(**filters: object) -> set[int]:
        with engine.connect() as connection:
            return set(connection.execute(select(persons.c.id).where(eligible(Cohort(**filters)))).scalars())  # type: ignore[arg-type]

    assert selected() == {resident, cross_border, german, esch}
    assert selected(sources=("ccss",)) == {cross_border}
    assert selected(countries=("LU",)) == {resident, german, esch}
    assert selected(languages=("de",)) == {german}
    assert selected(communes=("Esch-sur-Alzette",)) == {esch}
    assert deceased not in selected()
    assert unknown not in selected()
