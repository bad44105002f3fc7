"""A centre's day: expected, arrived, done, no-shows; releasing no-show places; the offline list."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from courrier.checkin.day import centre_day, code_fingerprint, offline_list, release_no_shows
from courrier.db.schema import events, slots
from courrier.db.transaction import write_transaction

from .conftest import CENTRE, OTHER


def test_the_day_list_counts_expected_arrived_and_no_shows(make_desk, engine):
    desk = make_desk(people=3)
    desk.scan(desk.letter(0))
    with engine.connect() as connection:
        during = centre_day(connection, CENTRE, desk.at.date(), now=desk.at)
        after = centre_day(connection, CENTRE, desk.at.date(), now=desk.at + dt.timedelta(hours=2))
        other = centre_day(connection, OTHER, desk.at.date(), now=desk.at)
    assert during.counts == {
        "expected": 2,
        "arrived": 1,
        "done": 0,
        "no_show": 0,
        "cancelled": 0,
        "walk_in": 0,
    }
    assert after.counts["no_show"] == 2
    assert [e.status for e in during.bookings].count("arrived") == 1
    assert during.bookings[0].desk == "desk-1"
    assert other.bookings == ()


def test_releasing_no_shows_gives_their_places_back_once(make_desk, engine):
    desk = make_desk(people=3)
    desk.scan(desk.letter(0))
    later = desk.at + dt.timedelta(hours=2)
    with engine.connect() as connection:
        before = connection.execute(select(slots.c.taken).where(slots.c.id == desk.slot)).scalar_one()
    with write_transaction(engine) as connection:
        released = release_no_shows(connection, CENTRE, desk.at.date(), actor="reception:r1", now=later)
    with write_transaction(engine) as connection:
        again = release_no_shows(connection, CENTRE, desk.at.date(), actor="reception:r1", now=later)
    assert released.released == 2
    assert sorted(released.references) == sorted(b.reference for b in desk.bookings[1:])
    assert again.released == 0
    with engine.connect() as connection:
        taken = connection.execute(select(slots.c.taken).where(slots.c.id == desk.slot)).scalar_one()
        logged = list(
            connection.execute(select(events.c.type).where(events.c.type == "booking.no_show")).scalars()
        )
        day = centre_day(connection, CENTRE, desk.at.date(), now=later)
    assert taken == before - 2
    assert len(logged) == 2
    assert day.counts["no_show"] == 2
    # A no-show who comes anyway is told it is too late.
    assert desk.scan(desk.letter(1), at=desk.at).refusal.code == "too_late"


def test_the_offline_list_holds_fingerprints_never_codes(make_desk, engine, keys):
    desk = make_desk(people=2)
    desk.scan(desk.letter(0))
    with engine.connect() as connection:
        found = offline_list(connection, keys, CENTRE, desk.at.date(), now=desk.at)
    text = json.dumps(found.to_json())
    for _code_id, code in desk.codes:
        assert code not in text
    by_reference = {b.reference: b for b in found.bookings}
    for booking, (code_id, code) in zip(desk.bookings, desk.codes, strict=True):
        entry = by_reference[booking.reference]
        assert entry.code_fingerprint == code_fingerprint(found.salt, code)
        assert entry.code_id == code_id
    assert by_reference[desk.bookings[0].reference].checked_in["desk"] == "desk-1"
    assert by_reference[desk.bookings[1].reference].checked_in is None
    assert set(found.public_keys) == {"1"}
    assert found.campaigns[0].early_minutes == 30
