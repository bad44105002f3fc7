"""Planning again and again while the register changes never invites anyone twice or keeps an ineligible
person planned."""

from __future__ import annotations

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from courrier.campaigns.cohort import age_on
from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign
from courrier.db.schema import persons, pieces

from .conftest import CAMPAIGN, NOW, add_persons, change_person

_names = itertools.count(1)
REFERENCE = dt.date(2021, 1, 15)

newcomers = st.lists(st.integers(1920, 1960), max_size=4)
changes = st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["deceased", "abroad", "home"])), max_size=4)
steps = st.lists(st.tuples(newcomers, changes), min_size=1, max_size=4)


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps)
def test_replanning_keeps_one_piece_per_person_and_only_eligible_planned(engine, make_definition, plan_steps):
    name = f"replan-{next(_names)}"
    text = CAMPAIGN.replace('name = "vaccination-75plus"', f'name = "{name}"').replace(
        'sources = ["rnpp"]', 'sources = ["rnpp"]\ncountries = ["LU"]'
    )
    create_campaign(engine, make_definition(text), actor="t", now=NOW)
    mine: list[int] = []
    for years, person_changes in plan_steps:
        mine += add_persons(engine, *[{"birth_date": dt.date(year, 7, 1)} for year in years])
        for index, change in person_changes:
            if not mine:
                break
            person_id = mine[index % len(mine)]
            if change == "deceased":
                change_person(engine, person_id, deceased=True)
            else:
                change_person(engine, person_id, country="FR" if change == "abroad" else "LU")
        plan_campaign(engine, name, actor="t", now=NOW)

    with engine.connect() as connection:
        people = {row.id: row for row in connection.execute(select(persons).where(persons.c.id.in_(mine)))}
        planned = connection.execute(
            select(pieces.c.person_id, pieces.c.state)
            .join_from(pieces, persons)
            .where(persons.c.id.in_(mine))
        ).all()
    per_person = [person_id for person_id, _ in planned]
    assert len(per_person) == len(set(per_person))

    def eligible(person_id: int) -> bool:
        person = people[person_id]
        return not person.deceased and person.country == "LU" and age_on(person.birth_date, REFERENCE) >= 75

    for person_id, state in planned:
        # A withdrawn person who became eligible again is not planned again on its own (a re-issue does).
        assert state == "withdrawn" if not eligible(person_id) else state in {"planned", "withdrawn"}
    unplanned = {person_id for person_id in people if eligible(person_id)} - set(per_person)
    assert not unplanned
