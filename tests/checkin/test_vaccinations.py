"""The vaccination record: dose 1 and dose 2 in a person's history; a correction supersedes a record,
and both stay in the event log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from courrier.booking.bookings import book_dose
from courrier.booking.confirmation import reception_payload
from courrier.checkin.vaccinations import Dose, correct_vaccination, record_vaccination, vaccination_history
from courrier.checkin.valuesets import FOLDER, value_set
from courrier.db.schema import bookings, events, vaccinations
from courrier.db.transaction import write_transaction
from courrier.errors import CodeError, ConflictError, NotFoundError

from ..web.conftest import NOW, first_slot
from .conftest import CENTRE, OTHER, nonce, run

COMIRNATY = Dose("EU/1/20/1528", "ORG-100030215", "1119349007", "FK1234", 1, 2)
# ../shared beside the project root (src/courrier/data/dcc/valuesets → the project is parents[4]).
SHARED = FOLDER.parents[4].parent / "shared" / "testdata" / "dcc" / "valuesets"


def _record(engine, checkin_id, dose=COMIRNATY, *, at, key=None, centre=CENTRE):
    with write_transaction(engine) as connection:
        return record_vaccination(
            connection,
            checkin_id,
            dose,
            centre_id=centre,
            physician="physician1",
            nonce=key or nonce(),
            now=at,
        )


def test_dose_1_and_dose_2_are_in_the_persons_history(make_desk, engine):
    desk = make_desk(people=1)
    first = desk.scan(desk.letter()).checkin
    record, created = _record(engine, first.id, at=desk.at + dt.timedelta(minutes=15))
    assert created
    assert record.product_name == "Comirnaty"
    assert record.manufacturer_name == "Biontech Manufacturing GmbH"
    with engine.connect() as connection:
        done = connection.execute(
            select(bookings.c.done_at).where(bookings.c.reference == first.booking.reference)
        )
        assert done.scalar_one() is not None
    # Dose 2, 21 days later, at the same centre.
    code_id = desk.codes[0][0]
    day2 = dt.date(2021, 2, 15)
    slot2 = first_slot(engine, desk.campaign_id, CENTRE, day=day2)
    booking2 = book_dose(engine, code_id, slot2, 2, booked_by="t", now=NOW)[0]
    second = run(engine, desk.keys, reception_payload(booking2.reference), at=booking2.starts_at).checkin
    assert second.dose == 2
    _record(
        engine,
        second.id,
        Dose(**{**COMIRNATY.__dict__, "dose_number": 2, "lot": "FK9"}),
        at=booking2.starts_at,
    )
    with engine.connect() as connection:
        history = vaccination_history(connection, first.person_id)
    assert [(r.dose_number, r.series_doses, r.lot, r.current) for r in history] == [
        (1, 2, "FK1234", True),
        (2, 2, "FK9", True),
    ]
    assert history[0].to_json()["given_at"].startswith("2021-01-25")


def test_a_correction_supersedes_the_record_and_both_stay_in_the_event_log(make_desk, engine):
    desk = make_desk(people=1)
    checkin = desk.scan(desk.letter()).checkin
    at = desk.at + dt.timedelta(minutes=15)
    old, _ = _record(engine, checkin.id, at=at)
    with write_transaction(engine) as connection:
        new, created = correct_vaccination(
            connection,
            old.id,
            Dose(**{**COMIRNATY.__dict__, "lot": "FK1243"}),
            centre_id=CENTRE,
            physician="physician2",
            nonce="fix-1",
            reason="lot digits swapped",
            now=at + dt.timedelta(hours=2),
        )
    assert created
    assert new.supersedes == old.id
    assert new.given_at == old.given_at  # the time the dose was given is kept
    with engine.connect() as connection:
        history = vaccination_history(connection, checkin.person_id)
        rows = list(
            connection.execute(select(vaccinations.c.id, vaccinations.c.lot).order_by(vaccinations.c.id))
        )
        logged = list(
            connection.execute(
                select(events.c.type, events.c.details, events.c.reason)
                .where(events.c.type.like("vaccination.%"))
                .order_by(events.c.id)
            )
        )
    # Never updated in place: the first row still holds the first lot.
    assert [tuple(r) for r in rows] == [(old.id, "FK1234"), (new.id, "FK1243")]
    assert [(r.id, r.current, r.superseded_by) for r in history] == [
        (old.id, False, new.id),
        (new.id, True, None),
    ]
    assert [e.type for e in logged] == ["vaccination.recorded", "vaccination.corrected"]
    assert json.loads(logged[0].details)["lot"] == "FK1234"
    assert json.loads(logged[1].details)["supersedes"] == old.id
    assert logged[1].reason == "lot digits swapped"
    # The old record is corrected once: correct the newest one.
    with write_transaction(engine) as connection, pytest.raises(ConflictError) as twice:
        correct_vaccination(
            connection, old.id, COMIRNATY, centre_id=CENTRE, physician="p", nonce="fix-2", reason="x", now=at
        )
    assert twice.value.code == "already_corrected"
    # The same nonce again is the same correction.
    with write_transaction(engine) as connection:
        again, created = correct_vaccination(
            connection, old.id, COMIRNATY, centre_id=CENTRE, physician="p", nonce="fix-1", reason="x", now=at
        )
    assert (again.id, created) == (new.id, False)


def test_a_check_in_gets_one_record_and_the_same_nonce_is_the_same_record(make_desk, engine):
    desk = make_desk(people=1)
    checkin = desk.scan(desk.letter()).checkin
    first, _ = _record(engine, checkin.id, at=desk.at, key="rec-1")
    again, created = _record(engine, checkin.id, at=desk.at, key="rec-1")
    assert (again.id, created) == (first.id, False)
    with pytest.raises(ConflictError) as twice:
        _record(engine, checkin.id, at=desk.at, key="rec-2")
    assert twice.value.code == "already_vaccinated"
    with pytest.raises(NotFoundError) as elsewhere:
        _record(engine, checkin.id, at=desk.at, centre=OTHER)
    assert elsewhere.value.code == "unknown_checkin"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"product": "EU/1/99/0000"}, "unknown_vaccine_value", "product"),
        ({"manufacturer": "ORG-0"}, "unknown_vaccine_value", "manufacturer"),
        ({"prophylaxis": "0"}, "unknown_vaccine_value", "prophylaxis"),
        ({"lot": "  "}, "bad_vaccination", "lot"),
        ({"lot": "X" * 33}, "bad_vaccination", "lot"),
        ({"dose_number": 3}, "bad_vaccination", "dose_number"),
        ({"series_doses": 0}, "bad_vaccination", "series_doses"),
        ({"given_at": NOW + dt.timedelta(days=30)}, "bad_vaccination", "given_at"),
    ],
)
def test_a_record_that_is_not_valid_is_refused_naming_the_field(make_desk, engine, change, code, field):
    desk = make_desk(people=1)
    checkin = desk.scan(desk.letter()).checkin
    with pytest.raises(CodeError) as refused:
        _record(engine, checkin.id, Dose(**{**COMIRNATY.__dict__, **change}), at=desk.at)
    assert (refused.value.code, refused.value.facts["field"]) == (code, field)
    with engine.connect() as connection:
        assert connection.execute(select(vaccinations.c.id)).first() is None


def test_the_value_sets_are_the_shared_copy():
    assert "EU/1/20/1528" in value_set("product")
    if not SHARED.is_dir():
        pytest.skip("../shared/testdata/dcc/valuesets is not beside the project")
    for name in ("vaccine-medicinal-product.json", "vaccine-mah-manf.json", "vaccine-prophylaxis.json"):
        assert (FOLDER / name).read_bytes() == (SHARED / name).read_bytes()
