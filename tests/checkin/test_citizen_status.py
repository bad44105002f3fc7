"""The citizen's own pages after the centre's day: a checked-in, a vaccinated and a missed appointment
each say so (not "booked" or "cancelled"), and none of them offers a move or a cancellation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from courrier.checkin.day import release_no_shows
from courrier.checkin.vaccinations import Dose, record_vaccination
from courrier.codes.format import format_code
from courrier.db.schema import bookings
from courrier.db.transaction import write_transaction

from ..web.conftest import bearer, citizen_token
from ..web.pages import enter_code
from .conftest import CENTRE, nonce

COMIRNATY = Dose("EU/1/20/1528", "ORG-100030215", "1119349007", "FK1234", 1, 2)

LABELS = {
    "en": {"vaccinated": "vaccinated", "checked_in": "checked in", "no_show": "missed"},
    "de": {"vaccinated": "geimpft", "checked_in": "eingecheckt", "no_show": "verpasst"},
}


@pytest.fixture
def day_after(make_desk, engine):
    """Person 0 checked in and vaccinated, person 1 checked in, person 2 never came (released)."""
    desk = make_desk(people=3)
    vaccinated = desk.scan(desk.letter(0)).checkin
    desk.scan(desk.letter(1))
    later = desk.at + dt.timedelta(hours=2)
    with write_transaction(engine) as connection:
        record_vaccination(
            connection, vaccinated.id, COMIRNATY, centre_id=CENTRE, physician="doc", nonce=nonce(), now=later
        )
        release_no_shows(connection, CENTRE, desk.at.date(), actor="reception:r1", now=later)
    return desk


@pytest.mark.parametrize("lang", ["en", "de"])
@pytest.mark.parametrize(("person", "status"), [(0, "vaccinated"), (1, "checked_in"), (2, "no_show")])
def test_the_citizen_sees_what_happened_at_the_centre(client, day_after, engine, lang, person, status):
    booking_id = day_after.bookings[person].id
    assert enter_code(client, format_code(day_after.codes[person][1]), lang=lang).status_code == 303
    overview = client.get("/bookings").text
    classes = re.search(rf'id="booking-{booking_id}" class="([^"]+)"', overview)
    assert classes
    # The booking's state stays a class (``active`` while checked in), its status beside it.
    assert status in classes.group(1).split()
    heading = re.search(rf'id="booking-{booking_id}"[^>]*>\s*<h2>([^<]+)</h2>', overview)
    assert heading
    assert heading.group(1).endswith(LABELS[lang][status])
    page = client.get(f"/bookings/{booking_id}").text
    label = re.search(rf'id="booking-status-{booking_id}" class="status {status}">([^<]+)<', page)
    assert label
    assert label.group(1) == LABELS[lang][status]
    assert 'id="cancel-booking"' not in page
    assert 'id="move-booking"' not in page
    # The cancel page is not a dead end: it leads back to the appointment.
    cancel = client.get(f"/bookings/{booking_id}/cancel", follow_redirects=False)
    assert cancel.status_code == 303
    assert cancel.headers["location"].endswith(f"/bookings/{booking_id}")


def test_the_api_gives_the_status_beside_the_state(client, day_after, engine):
    with engine.connect() as connection:
        states = dict(connection.execute(select(bookings.c.id, bookings.c.state)).all())
    assert states[day_after.bookings[1].id] == "active"
    answer = client.get("/api/v1/bookings", headers=bearer(citizen_token(client, day_after.codes[1][1])))
    assert answer.status_code == 200, answer.text
    [booking] = answer.json()["bookings"]
    assert (booking["state"], booking["status"]) == ("active", "checked_in")
