"""Cohorts: a campaign's filters as SQL on ``persons``, and exact ages.

Age at a reference date is counted in whole years, as people count birthdays: someone born on
2026-03-12 is 0 on 2026-03-12 and 1 on 2027-03-12. Someone born on 29 February turns a year older on
1 March in years without a 29 February.

Age filters become bounds on ``birth_date`` (so the database uses them and a million persons stream):
``age >= m`` on reference date R holds exactly when the person was born on or before R shifted back m
years (29 February shifted to a non-leap year becomes 28 February).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, false, literal, not_, or_, true

from courrier.campaigns.definition import Cohort
from courrier.country import HOME_COUNTRY
from courrier.db.schema import persons, vaccinations


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Whole years from ``birth_date`` to ``day``."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def latest_birth_date(reference: dt.date, age: int) -> dt.date:
    """The last birth date of someone at least ``age`` years old on ``reference``."""
    year = reference.year - age
    try:
        return reference.replace(year=year)
    except ValueError:  # 29 February into a non-leap year
        return dt.date(year, 2, 28)


def matches(cohort: Cohort) -> ColumnElement[bool]:
    """Persons the cohort's filters select, before the exclusions (deceased, unknown address)."""
    conditions: list[ColumnElement[bool]] = [persons.c.source.in_(cohort.sources)]
    if cohort.reference_date is not None and cohort.min_age is not None:
        conditions.append(persons.c.birth_date <= latest_birth_date(cohort.reference_date, cohort.min_age))
    if cohort.reference_date is not None and cohort.max_age is not None:
        conditions.append(persons.c.birth_date > latest_birth_date(cohort.reference_date, cohort.max_age + 1))
    if cohort.reference_date is not None:
        # Nobody is invited before being born.
        conditions.append(persons.c.birth_date <= cohort.reference_date)
    if cohort.communes:
        conditions.append(persons.c.commune.in_(cohort.communes))
    if cohort.countries:
        conditions.append(persons.c.country.in_(cohort.countries))
    if cohort.languages:
        conditions.append(persons.c.language.in_(cohort.languages))
    return and_(true(), *conditions)


def reachable() -> ColumnElement[bool]:
    """Deceased persons and unknown addresses are always excluded."""
    return and_(persons.c.deceased == false(), persons.c.address_unknown == false())


def eligible(cohort: Cohort) -> ColumnElement[bool]:
    return and_(matches(cohort), reachable())


def vaccinated() -> ColumnElement[bool]:
    """Persons with a vaccination record: whom a campaign of kind ``certificate`` may post one to."""
    return exists().where(vaccinations.c.person_id == persons.c.id)


def exclusion_reason(cohort: Cohort) -> ColumnElement[Any]:
    """Why a person is not (or no longer) eligible; for withdrawal events."""
    moved_abroad = (
        and_(persons.c.country != HOME_COUNTRY, not_(persons.c.country.in_(cohort.countries)))
        if cohort.countries
        else false()
    )
    return case(
        (persons.c.deceased == true(), literal("deceased")),
        (persons.c.address_unknown == true(), literal("address_unknown")),
        (moved_abroad, literal("moved_abroad")),
        else_=literal("left_cohort"),
    )


def order_by(cohort: Cohort) -> list[Any]:
    if cohort.order == "oldest_first":
        return [persons.c.birth_date, persons.c.id]
    if cohort.order == "youngest_first":
        return [persons.c.birth_date.desc(), persons.c.id]
    if cohort.order == "postcode":
        return [persons.c.country, persons.c.postcode, persons.c.id]
    return [persons.c.id]


def not_matching(cohort: Cohort) -> ColumnElement[bool]:
    return or_(not_(matches(cohort)), not_(reachable()))
