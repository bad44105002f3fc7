"""Bookings: take a place in a slot, cancel (the place goes back), list a code's bookings.

The guard: a place is taken by one ``UPDATE slots SET taken = taken + 1 WHERE id = :slot AND taken <
capacity`` whose rowcount is checked, so no slot ever holds more bookings than places, whatever the number
of workers; the UNIQUE constraint on (code_id, active_dose) keeps one active booking per code and dose even
when one code books twice at once (the loser's transaction is rolled back, place included, and told
``already_booked``). An ``Idempotency-Key`` makes a retried request return the first booking.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, bindparam, select
from sqlalchemy.exc import IntegrityError

from courrier.booking.policy import policy_from
from courrier.booking.questions import checked_answers
from courrier.codes.format import ALPHABET
from courrier.db.prepared import Prepared
from courrier.db.schema import booking_policies, bookings, campaigns, centres, codes, slots
from courrier.db.transaction import write_transaction
from courrier.errors import CodeError, ConflictError, NotFoundError
from courrier.ledger.codes import REFUSALS, effective_status


@dataclass(frozen=True)
class Booking:
    id: int
    reference: str
    campaign_id: int
    code_id: int
    person_id: int
    dose: int
    state: str
    slot_id: int
    centre_id: str
    centre_name: str
    centre_address: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    # Set by the centre's check-in (``checkin/``): arrived, then vaccinated.
    checked_in_at: dt.datetime | None = None
    done_at: dt.datetime | None = None

    @property
    def status(self) -> str:
        """What the person sees: ``booked``, ``checked_in``, ``vaccinated``, ``cancelled`` or ``no_show``.
        ``state`` stays the booking's own (active, cancelled, no_show); a check-in keeps it active."""
        if self.state != "active":
            return self.state
        if self.done_at is not None:
            return "vaccinated"
        return "checked_in" if self.checked_in_at is not None else "booked"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "dose": self.dose,
            "state": self.state,
            "status": self.status,
            "slot": self.slot_id,
            "centre": {"id": self.centre_id, "name": self.centre_name, "address": self.centre_address},
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
        }


def _booking_query() -> Any:
    return (
        select(
            bookings,
            slots.c.starts_at,
            slots.c.ends_at,
            slots.c.centre_id,
            centres.c.name.label("centre_name"),
            centres.c.address.label("centre_address"),
        )
        .join(slots, slots.c.id == bookings.c.slot_id)
        .join(centres, centres.c.id == slots.c.centre_id)
    )


def _booking(row: Row[Any]) -> Booking:
    return Booking(
        id=row.id,
        reference=row.reference,
        campaign_id=row.campaign_id,
        code_id=row.code_id,
        person_id=row.person_id,
        dose=row.dose,
        state=row.state,
        slot_id=row.slot_id,
        centre_id=row.centre_id,
        centre_name=row.centre_name,
        centre_address=row.centre_address,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        checked_in_at=row.checked_in_at,
        done_at=row.done_at,
    )


def list_bookings(connection: Connection, code_id: int) -> list[Booking]:
    query = _booking_query().where(bookings.c.code_id == code_id).order_by(bookings.c.dose, bookings.c.id)
    return [_booking(row) for row in connection.execute(query)]


def get_booking(connection: Connection, code_id: int, booking_id: int) -> Booking:
    row = connection.execute(
        _booking_query().where(bookings.c.id == booking_id, bookings.c.code_id == code_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no booking {booking_id} for this code", code="unknown_booking")
    return _booking(row)


def _by_key(connection: Connection, code_id: int, key: str) -> Booking | None:
    row = connection.execute(
        _booking_query().where(bookings.c.code_id == code_id, bookings.c.idempotency_key == key)
    ).one_or_none()
    return None if row is None else _booking(row)


def new_reference() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(8))


def _request_query(dose: int) -> Any:
    """Everything a booking checks, in one read: the code, its campaign's policy, the slot (when it is
    the campaign's) and its centre, the code's active booking of this dose and the start of its dose 1."""
    first_slots = slots.alias("first_slots")
    first = bookings.alias("first")
    this_dose = bookings.alias("this_dose")
    return (
        select(
            codes.c.campaign_id,
            codes.c.person_id,
            codes.c.status,
            codes.c.uses,
            codes.c.max_uses,
            codes.c.valid_until,
            campaigns.c.max_uses.label("campaign_max_uses"),
            booking_policies.c.doses,
            booking_policies.c.dose2_min_days,
            booking_policies.c.dose2_max_days,
            booking_policies.c.dose2_after_expiry,
            booking_policies.c.questions,
            slots.c.id.label("slot_id"),
            slots.c.starts_at,
            slots.c.ends_at,
            slots.c.centre_id,
            centres.c.name.label("centre_name"),
            centres.c.address.label("centre_address"),
            select(this_dose.c.id)
            .where(this_dose.c.code_id == codes.c.id, this_dose.c.active_dose == dose)
            .scalar_subquery()
            .label("booked_id"),
            select(first_slots.c.starts_at)
            .join(first, first.c.slot_id == first_slots.c.id)
            .where(first.c.code_id == codes.c.id, first.c.active_dose == 1)
            .scalar_subquery()
            .label("dose1_starts_at"),
        )
        .join(campaigns, campaigns.c.id == codes.c.campaign_id)
        .outerjoin(booking_policies, booking_policies.c.campaign_id == codes.c.campaign_id)
        .outerjoin(
            slots, and_(slots.c.id == bindparam("slot_id"), slots.c.campaign_id == codes.c.campaign_id)
        )
        .outerjoin(centres, centres.c.id == slots.c.centre_id)
        .where(codes.c.id == bindparam("code_id"))
    )


# Built once per dose: a statement object SQLAlchemy has seen before costs only its cache lookup.
_REQUEST_QUERIES = {dose: _request_query(dose) for dose in (1, 2)}


def _check_request(
    connection: Connection, code_id: int, slot_id: int, dose: int, now: dt.datetime
) -> Row[Any]:
    """The code may book this dose in this slot now (everything but the place itself); the request's
    row (the code's campaign and person, the slot and its centre)."""
    query = _REQUEST_QUERIES.get(dose)
    if query is None:
        query = _request_query(dose)
    row = connection.execute(query, {"code_id": code_id, "slot_id": slot_id}).one_or_none()
    if row is None:
        # A citizen's code id comes from their signed session; the helpline's from the path it calls.
        raise NotFoundError(f"no code {code_id}", code="unknown_code")
    policy = policy_from(row, int(row.campaign_max_uses))
    if not 1 <= dose <= policy.doses:
        raise ConflictError(f"dose {dose}: this campaign has doses 1 to {policy.doses}", code="bad_dose")
    status = effective_status(row.status, row.uses, row.max_uses, row.valid_until, now.date())
    if not policy.may_book(status, dose):
        raise CodeError(f"the code is {status}", code=REFUSALS.get(status, CodeError.code))
    if row.slot_id is None:
        raise NotFoundError(f"no slot {slot_id} in this campaign", code="unknown_slot")
    if row.starts_at <= now:
        raise ConflictError("this slot has begun or is over", code="slot_past")
    if dose == 2:
        first = row.dose1_starts_at
        if first is None:
            raise ConflictError("book dose 1 first", code="dose1_first")
        earliest = first + dt.timedelta(days=policy.dose2_min_days)
        latest = first + dt.timedelta(days=policy.dose2_max_days)
        if not earliest.date() <= row.starts_at.date() <= latest.date():
            raise ConflictError(
                f"dose 2 is from {earliest.date()} to {latest.date()}",
                code="outside_dose_window",
                earliest=earliest.date(),
                latest=latest.date(),
            )
    if row.booked_id is not None:
        raise ConflictError(f"this code already has a booking for dose {dose}", code="already_booked")
    return row


# The two writes of a booking, sent through the driver's cursor (db.prepared).
_TAKE_PLACE = Prepared(
    slots.update()
    .where(slots.c.id == bindparam("slot"), slots.c.taken < slots.c.capacity)
    .values(taken=slots.c.taken + 1)
)
_INSERT = Prepared(bookings.insert().returning(bookings.c.id))


def _take_place(connection: Connection, slot_id: int) -> None:
    taken = _TAKE_PLACE.rowcount(connection, {"slot": slot_id})
    if taken != 1:
        raise ConflictError("this slot is full", code="slot_full")


def _take_place_unguarded(engine: Engine, slot_id: int, pause: Callable[[], None]) -> None:
    """The control for the race tests only: check capacity in one read, then write without a guard."""
    with engine.connect() as connection:
        slot = connection.execute(select(slots.c.taken, slots.c.capacity).where(slots.c.id == slot_id)).one()
    if slot.taken >= slot.capacity:
        raise ConflictError("this slot is full", code="slot_full")
    pause()


def book_dose(
    engine: Engine,
    code_id: int,
    slot_id: int,
    dose: int,
    *,
    booked_by: str,
    now: dt.datetime,
    idempotency_key: str | None = None,
    answers: Mapping[str, object] | None = None,
    guarded: bool = True,
    pause: Callable[[], None] = lambda: None,
) -> tuple[Booking, bool]:
    """Book ``dose`` for the code in the slot; ``(booking, created)``, ``created`` False when the
    idempotency key was seen before (the first answer again). Refusals: ``slot_full``,
    ``already_booked``, ``outside_dose_window``, ``dose1_first``, ``unknown_slot``, ``slot_past``,
    ``bad_dose``, the code's refusals, the health questions' (``see_your_doctor``, ``answer_missing``,
    ``unknown_answer``: ``booking.questions``)."""
    key = idempotency_key[:64] if idempotency_key else None
    if key is not None:
        with engine.connect() as connection:
            first = _by_key(connection, code_id, key)
        if first is not None:
            return first, False
    if not guarded:
        _take_place_unguarded(engine, slot_id, pause)
    try:
        with write_transaction(engine) as connection:
            request = _check_request(connection, code_id, slot_id, dose, now)
            answers = checked_answers(connection, request.campaign_id, answers)
            if guarded:
                _take_place(connection, slot_id)
            else:
                connection.execute(
                    slots.update().where(slots.c.id == slot_id).values(taken=slots.c.taken + 1)
                )
            reference = new_reference()
            booking_id = _INSERT.scalar(
                connection,
                {
                    "reference": reference,
                    "campaign_id": request.campaign_id,
                    "code_id": code_id,
                    "person_id": request.person_id,
                    "dose": dose,
                    "slot_id": slot_id,
                    "state": "active",
                    "active_dose": dose,
                    "idempotency_key": key,
                    "answers": json.dumps(dict(answers or {}), sort_keys=True),
                    "booked_by": booked_by,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            # The answer is made of what was read and written: no second read of the new booking.
            booking = Booking(
                id=int(booking_id),
                reference=reference,
                campaign_id=request.campaign_id,
                code_id=code_id,
                person_id=request.person_id,
                dose=dose,
                state="active",
                slot_id=slot_id,
                centre_id=request.centre_id,
                centre_name=request.centre_name,
                centre_address=request.centre_address,
                starts_at=request.starts_at,
                ends_at=request.ends_at,
            )
            return booking, True
    except (IntegrityError, ConflictError) as error:
        if isinstance(error, ConflictError) and error.code != "already_booked":
            raise
        # A simultaneous request won: the same idempotency key (answer as it was answered) or another
        # booking of this dose. Our transaction, place included, is rolled back.
        if key is not None:
            with engine.connect() as connection:
                first = _by_key(connection, code_id, key)
            if first is not None:
                return first, False
        raise ConflictError(
            f"this code already has a booking for dose {dose}", code="already_booked"
        ) from None


def cancel_booking(engine: Engine, code_id: int, booking_id: int, *, now: dt.datetime) -> Booking:
    """Cancel an active booking and give its place back; a dose-2 booking goes with a cancelled dose 1."""
    with write_transaction(engine) as connection:
        booking = get_booking(connection, code_id, booking_id)
        _cancel(connection, booking, now)
        if booking.dose == 1:
            for other in list_bookings(connection, code_id):
                if other.dose == 2 and other.state == "active":
                    _cancel(connection, other, now)
        return get_booking(connection, code_id, booking_id)


def _refuse_checked_in(connection: Connection, booking_id: int) -> None:
    """Once the person is checked in at the centre (``checkin/``), the booking is neither cancelled nor
    moved."""
    checked_in = connection.execute(
        select(bookings.c.checked_in_at).where(bookings.c.id == booking_id)
    ).scalar_one_or_none()
    if checked_in is not None:
        raise ConflictError("the person is checked in for this booking", code="booking_checked_in")


def _cancel(connection: Connection, booking: Booking, now: dt.datetime) -> None:
    ended = connection.execute(
        bookings.update()
        .where(bookings.c.id == booking.id, bookings.c.state == "active", bookings.c.checked_in_at.is_(None))
        .values(state="cancelled", active_dose=None, updated_at=now)
    ).rowcount
    if ended != 1:
        _refuse_checked_in(connection, booking.id)
        raise ConflictError("this booking is already cancelled", code="booking_cancelled")
    connection.execute(
        slots.update().where(slots.c.id == booking.slot_id, slots.c.taken > 0).values(taken=slots.c.taken - 1)
    )


def move_booking(engine: Engine, code_id: int, booking_id: int, slot_id: int, *, now: dt.datetime) -> Booking:
    """Move an active booking to another slot: the new place is taken under the same guard, the old one
    given back, in one transaction."""
    with write_transaction(engine) as connection:
        booking = get_booking(connection, code_id, booking_id)
        if booking.state != "active":
            raise ConflictError("this booking is cancelled", code="booking_cancelled")
        _refuse_checked_in(connection, booking.id)
        # Check the new slot as a new booking of the same dose would be, without this booking.
        connection.execute(bookings.update().where(bookings.c.id == booking.id).values(active_dose=None))
        _check_request(connection, code_id, slot_id, booking.dose, now)
        _take_place(connection, slot_id)
        connection.execute(
            slots.update()
            .where(slots.c.id == booking.slot_id, slots.c.taken > 0)
            .values(taken=slots.c.taken - 1)
        )
        connection.execute(
            bookings.update()
            .where(bookings.c.id == booking.id)
            .values(slot_id=slot_id, active_dose=booking.dose, updated_at=now)
        )
        return get_booking(connection, code_id, booking_id)
