"""The desk's answer types spell their JSON out (for speed): the same as the generic shape (result.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from courrier.checkin.desk import BookingView, Checkin, Person
from courrier.result import Result, plain

AT = dt.datetime(2021, 1, 25, 9, 5, 30, 123456, tzinfo=dt.UTC)
PERSON = Person("Ana Reis", dt.date(1940, 2, 29))
BOOKING = BookingView("K7QX2M9P", 1, AT, AT + dt.timedelta(minutes=10), "C01", "arrived")
INTERNAL = ("campaign_id", "code_id", "person_id", "booking_id")


def _generic(value: Result) -> dict[str, object]:
    return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}  # type: ignore[arg-type]


@pytest.mark.parametrize("booking", [BOOKING, None])
def test_a_checkin_answers_in_the_generic_shape_without_its_ids(booking: BookingView | None):
    checkin = Checkin(
        7, "n1", AT, "desk 2", "rita", booking is None, 2, "arrived", "C01", booking, PERSON, 1, 2, 3, 4
    )
    expected = _generic(checkin)
    for internal in INTERNAL:
        del expected[internal]
    assert checkin.to_json() == expected
    assert list(checkin.to_json()) == list(expected)


def test_a_booking_and_a_person_answer_in_the_generic_shape():
    assert BOOKING.to_json() == _generic(BOOKING)
    assert PERSON.to_json() == _generic(PERSON)
