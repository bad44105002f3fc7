"""A person who came without a letter, found by the 13-digit national id on their social-security card:
their booking today is checked in, or they are taken as a walk-in where the campaign takes them; a typo
in the number, a stranger and a person never invited are each told apart, and no input crashes the desk."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from courrier.checkin.policy import set_checkin_policy
from courrier.db.schema import codes, persons
from courrier.db.transaction import write_transaction
from courrier.register.matricule import make_matricule

from ..campaigns.conftest import add_persons
from ..web.conftest import NOW

# Refusals a typed national id may get (besides what a typed code gets).
REFUSALS = {"bad_matricule", "unknown_person", "no_code_for_person", "no_booking_today", "already_checked_in"}
# And what a typed code or booking reference gets, when the digits are not 13.
CODE_REFUSALS = {"wrong_length", "bad_character", "bad_check_character", "unknown_code", "unknown_booking"}


def _card(engine, code_id: int) -> str:
    """Give the person behind ``code_id`` a valid matricule (the fixtures' ids are plain numbers) and
    return it, as printed on their social-security card."""
    with write_transaction(engine) as connection:
        person = connection.execute(select(codes.c.person_id).where(codes.c.id == code_id)).scalar_one()
        birth = connection.execute(select(persons.c.birth_date).where(persons.c.id == person)).scalar_one()
        number = make_matricule(birth, person % 1000)
        connection.execute(persons.update().where(persons.c.id == person).values(national_id=number))
    return f"{number[:4]} {number[4:8]} {number[8:]}"


def test_a_booked_person_is_checked_in_by_national_id(make_desk):
    desk = make_desk(people=2)
    answer = desk.scan(_card(desk.engine, desk.codes[1][0]), scanned=False)
    assert answer.status == "ok"
    assert answer.checkin.booking.reference == desk.bookings[1].reference
    again = desk.scan(_card(desk.engine, desk.codes[1][0]), scanned=False)
    assert again.refusal.code == "already_checked_in"


def test_a_walk_in_by_national_id_where_the_campaign_takes_walk_ins(make_desk, engine):
    desk = make_desk(people=1, booked=0)
    card = _card(engine, desk.codes[0][0])
    assert desk.scan(card, scanned=False, walk_in=True).refusal.code == "no_booking_today"
    with write_transaction(engine) as connection:
        set_checkin_policy(connection, desk.campaign_id, actor="t", now=NOW, walk_ins=True)
    offered = desk.scan(card, scanned=False)
    assert (offered.refusal.code, offered.walk_in_allowed, offered.person.birth_date.year) == (
        "no_booking_today",
        True,
        1930,
    )
    walked = desk.scan(card, scanned=False, walk_in=True)
    assert walked.status == "ok"
    assert (walked.checkin.walk_in, walked.checkin.code_id) == (True, desk.codes[0][0])


def test_a_wrong_number_a_stranger_and_someone_never_invited_are_told_apart(make_desk, engine):
    desk = make_desk(people=1)
    card = _card(engine, desk.codes[0][0]).replace(" ", "")
    typo = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert desk.scan(typo, scanned=False).refusal.code == "bad_matricule"
    stranger = make_matricule(date(1961, 6, 30), 417)
    assert desk.scan(stranger, scanned=False).refusal.code == "unknown_person"
    [uninvited] = add_persons(engine, {"birth_date": date(1970, 5, 5)})
    number = make_matricule(date(1970, 5, 5), 1)
    with write_transaction(engine) as connection:
        connection.execute(persons.update().where(persons.c.id == uninvited).values(national_id=number))
    assert desk.scan(number, scanned=False).refusal.code == "no_code_for_person"


@pytest.fixture
def one_desk(make_desk):
    return make_desk(people=1)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(digits=st.text(alphabet="0123456789 -", min_size=13, max_size=17))
def test_any_typed_digits_get_an_answer_never_a_crash(one_desk, digits):
    answer = one_desk.scan(digits, scanned=False, write=False)
    assert answer.status in {"ready", "refused"}
    if answer.status == "refused":
        assert answer.refusal.code in REFUSALS | CODE_REFUSALS
