"""Checking people in at a reception desk: what each kind of input finds, each refusal, idempotency."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from courrier.booking.bookings import book_dose, cancel_booking, move_booking
from courrier.checkin.policy import set_checkin_policy
from courrier.codes.format import format_code
from courrier.codes.token import quote_token, sign_token
from courrier.db.schema import checkins, events
from courrier.db.transaction import write_transaction
from courrier.errors import ConflictError
from courrier.ledger.codes import revoke_code

from ..web.conftest import NOW, first_slot
from .conftest import CENTRE, OTHER, nonce, run


def _count(engine, table=checkins) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_the_confirmation_qr_checks_the_person_in_once(make_desk):
    desk = make_desk()
    answer = desk.scan(desk.letter(), nonce_="tap-1")
    assert answer.status == "ok"
    checkin = answer.checkin
    assert checkin.booking.reference == desk.bookings[0].reference
    assert checkin.booking.state == "arrived"
    assert checkin.dose == 1
    assert checkin.desk == "desk-1"
    assert checkin.person.birth_date == dt.date(1930, 1, 1)
    assert set(answer.to_json()["checkin"]) >= {
        "id",
        "nonce",
        "at",
        "desk",
        "by",
        "walk_in",
        "booking",
        "person",
    }
    # A double tap (the same nonce) is the same check-in, answered the same way.
    again = desk.scan(desk.letter(), nonce_="tap-1", desk="desk-2")
    assert again.status == "ok"
    assert again.replayed
    assert again.checkin == checkin
    # Another scan (another nonce, another desk) is refused: when and where the first one was.
    later = desk.scan(desk.letter(), desk="desk-2", at=desk.at + dt.timedelta(minutes=3))
    assert later.status == "refused"
    assert later.refusal.code == "already_checked_in"
    assert later.refusal.facts["desk"] == "desk-1"
    assert later.refusal.facts["time"] == "08:00"  # the slot's local time in Luxembourg
    assert later.person == checkin.person
    assert _count(desk.engine) == 1
    with desk.engine.connect() as connection:
        types = list(
            connection.execute(select(events.c.type).where(events.c.type.like("checkin.%"))).scalars()
        )
    assert types == ["checkin.recorded"]


def test_each_way_of_naming_the_person_finds_their_booking(make_desk, keys):
    desk = make_desk(people=5)
    (_id0, code0), (_id1, _code1), (_id2, code2), (id3, _code3), (_id4, code4) = desk.codes
    typed_code = desk.scan(format_code(code0).lower(), scanned=False)
    typed_reference = desk.scan(desk.bookings[1].reference.lower(), scanned=False)
    invitation = desk.scan(f"https://rdv.example.lu/c/{code2}")
    token = sign_token(
        keys,
        campaign_id=desk.campaign_id,
        code_id=id3,
        valid_from=dt.date(2021, 1, 1),
        valid_until=dt.date(2021, 1, 14),
    )
    # A signed token past its dates still names the code: dose 2 comes after the code's two weeks.
    url = "https://verify.example.lu/v/{token}"
    signed = desk.scan(url.replace("{token}", quote_token(url, token)))
    plain_code = desk.scan(code4)
    answers = [typed_code, typed_reference, invitation, signed, plain_code]
    assert [a.status for a in answers] == ["ok"] * 5, [a.refusal for a in answers]
    assert [a.checkin.booking.reference for a in answers] == [b.reference for b in desk.bookings]


@pytest.mark.parametrize(
    ("text", "scanned", "code"),
    [
        ("RDV1:ZZZZZZZZ", True, "unknown_booking"),
        ("RDV1:", True, "bad_reception_qr"),
        ("not a code", False, "wrong_length"),
        ("https://rdv.example.lu/c/AAAAAAAAAAAAA2", True, "bad_check_character"),
        ("hello", True, "bad_token"),
    ],
)
def test_what_names_nobody_is_refused_with_its_reason(make_desk, text, scanned, code):
    desk = make_desk(people=1)
    answer = desk.scan(text, scanned=scanned)
    assert answer.status == "refused"
    assert answer.refusal.code == code
    assert _count(desk.engine) == 0


def test_a_forged_token_is_refused(make_desk, keys):
    desk = make_desk(people=1)
    token = sign_token(
        keys,
        campaign_id=desk.campaign_id,
        code_id=desk.codes[0][0],
        valid_from=dt.date(2021, 1, 1),
        valid_until=dt.date(2021, 1, 14),
    )
    forged = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    assert desk.scan(forged).refusal.code in ("bad_signature", "bad_token")


def test_refusals_name_their_reason(make_desk, engine):
    desk = make_desk(people=6, booked=2)
    codes = desk.codes
    # No booking: a code that booked nothing.
    nothing = desk.scan(codes[3][1], scanned=False)
    assert (nothing.status, nothing.refusal.code, nothing.walk_in_allowed) == (
        "refused",
        "no_booking_today",
        False,
    )
    assert nothing.person is not None
    # Booked today at another centre.
    other_slot = first_slot(engine, desk.campaign_id, OTHER)
    book_dose(engine, codes[4][0], other_slot, 1, booked_by="t", now=NOW)
    elsewhere = desk.scan(codes[4][1], scanned=False)
    assert elsewhere.refusal.code == "booked_elsewhere"
    assert elsewhere.refusal.facts["centre"] == OTHER
    # Booked at this centre on another day: not today.
    later_slot = first_slot(engine, desk.campaign_id, CENTRE, day=dt.date(2021, 1, 27))
    later = book_dose(engine, codes[5][0], later_slot, 1, booked_by="t", now=NOW)[0]
    assert desk.scan(f"RDV1:{later.reference}").refusal.code == "no_booking_today"
    # Cancelled.
    cancel_booking(engine, codes[1][0], desk.bookings[1].id, now=NOW)
    assert desk.scan(desk.letter(1)).refusal.code == "booking_cancelled"
    # Too early, too late: 30 minutes before the slot, 60 after its end by default.
    early = desk.scan(desk.letter(0), at=desk.at - dt.timedelta(minutes=31))
    assert early.refusal.code == "too_early"
    assert early.refusal.facts["time"] == "07:30"
    assert desk.scan(desk.letter(0), at=desk.at + dt.timedelta(minutes=10 + 61)).refusal.code == "too_late"
    assert desk.scan(desk.letter(0), at=desk.at - dt.timedelta(minutes=29)).status == "ok"
    # Revoked.
    with write_transaction(engine) as connection:
        revoke_code(connection, codes[2][0], actor="t", reason="stolen", now=NOW)
    assert desk.scan(codes[2][1], scanned=False).refusal.code == "code_revoked"
    assert _count(engine) == 1


def test_the_tolerances_are_the_campaigns(make_desk, engine):
    desk = make_desk(people=1)
    with write_transaction(engine) as connection:
        set_checkin_policy(
            connection, desk.campaign_id, actor="t", now=NOW, early_minutes=120, late_minutes=0
        )
    assert desk.scan(desk.letter(), at=desk.at + dt.timedelta(minutes=11)).refusal.code == "too_late"
    assert desk.scan(desk.letter(), at=desk.at - dt.timedelta(minutes=119)).status == "ok"
    with write_transaction(engine) as connection, pytest.raises(ConflictError) as refused:
        set_checkin_policy(connection, desk.campaign_id, actor="t", now=NOW, late_minutes=-1)
    assert refused.value.code == "bad_checkin_policy"


def test_walk_ins_only_where_the_campaign_takes_them(make_desk, engine):
    desk = make_desk(people=2, booked=0)
    code = desk.codes[0][1]
    assert desk.scan(code, scanned=False, walk_in=True).refusal.code == "no_booking_today"
    with write_transaction(engine) as connection:
        set_checkin_policy(connection, desk.campaign_id, actor="t", now=NOW, walk_ins=True)
    offered = desk.scan(code, scanned=False)
    assert (offered.refusal.code, offered.walk_in_allowed) == ("no_booking_today", True)
    walked = desk.scan(code, scanned=False, walk_in=True)
    assert walked.status == "ok"
    assert walked.checkin.walk_in
    assert walked.checkin.booking is None
    assert walked.checkin.dose == 1
    again = desk.scan(code, scanned=False, walk_in=True, desk="desk-9")
    assert again.refusal.code == "already_checked_in"
    assert again.refusal.facts["desk"] == "desk-1"
    assert _count(engine) == 1


def test_a_preview_writes_nothing(make_desk, engine):
    desk = make_desk(people=1)
    ready = desk.scan(desk.letter(), write=False)
    assert ready.status == "ready"
    assert ready.booking.reference == desk.bookings[0].reference
    assert _count(engine) == 0


def test_a_checked_in_booking_is_neither_cancelled_nor_moved(make_desk, engine):
    desk = make_desk(people=1)
    assert desk.scan(desk.letter()).status == "ok"
    booking = desk.bookings[0]
    with pytest.raises(ConflictError) as cancelled:
        cancel_booking(engine, booking.code_id, booking.id, now=NOW)
    assert cancelled.value.code == "booking_checked_in"
    other = first_slot(engine, desk.campaign_id, OTHER)
    with pytest.raises(ConflictError) as moved:
        move_booking(engine, booking.code_id, booking.id, other, now=NOW)
    assert moved.value.code == "booking_checked_in"


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200), scanned=st.booleans())
def test_any_input_is_answered_ok_or_refused_never_a_crash(make_desk_once, text, scanned):
    desk = make_desk_once
    answer = run(desk.engine, desk.keys, text, scanned=scanned, at=desk.at, write=False)
    assert answer.status in ("ready", "refused")
    if answer.status == "refused":
        assert answer.refusal.code


@pytest.fixture
def make_desk_once(make_desk):
    return make_desk(people=1)


def test_a_nonce_of_another_centre_is_not_that_centres_check_in(make_desk):
    desk = make_desk(people=2)
    first = desk.scan(desk.letter(0), nonce_="shared")
    assert first.status == "ok"
    # The same nonce at another centre is that centre's own (and finds no booking there).
    elsewhere = run(desk.engine, desk.keys, desk.letter(1), at=desk.at, nonce_="shared", centre=OTHER)
    assert elsewhere.status == "refused"
    assert nonce()
