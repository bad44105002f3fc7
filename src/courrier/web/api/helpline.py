"""The helpline: staff find a caller by the code they read out, and book, move or cancel for them under
the citizen's rules. Every view and action is written to the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from sqlalchemy import select

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.booking.bookings import (
    Booking,
    book_dose,
    cancel_booking,
    list_bookings,
    move_booking,
)
from courrier.booking.code_entry import enter_code
from courrier.db.schema import persons
from courrier.db.transaction import write_transaction
from courrier.web.api.citizen import BookingRequest, MoveRequest
from courrier.web.auth import context, staff_with_role
from courrier.web.inputs import Body, IdPath

router = APIRouter(prefix="/api/v1/helpline", tags=["helpline"])
Helpline = Annotated[StaffSession, Depends(staff_with_role("helpline"))]


class CallerCode(Body):
    code: str = Field(max_length=64)


def _audit(request: Request, session: StaffSession, action: str, code_id: int, **details: object) -> None:
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        audit(connection, session.user, action, f"code:{code_id}", now=ctx.clock(), details=details)


def _booked(request: Request, session: StaffSession, action: str, booking: Booking) -> dict[str, Any]:
    _audit(request, session, action, booking.code_id, booking=booking.reference, dose=booking.dose)
    return booking.to_json()


@router.post("/callers")
def find_caller(body: CallerCode, request: Request, session: Helpline) -> dict[str, Any]:
    """The caller behind a code: name, birth date, language, commune, and their bookings."""
    ctx = context(request)
    holder = enter_code(
        ctx.engine, ctx.keys, body.code, client=f"staff:{session.user.username}", now=ctx.clock()
    )
    with ctx.engine.connect() as connection:
        person = connection.execute(
            select(persons.c.given_names, persons.c.family_name, persons.c.birth_date).where(
                persons.c.id == holder.person_id
            )
        ).one()
        found = list_bookings(connection, holder.code_id)
    _audit(request, session, "code.viewed", holder.code_id)
    return {
        "caller": holder.code_id,
        "campaign": holder.campaign,
        "name": f"{person.given_names} {person.family_name}",
        "birth_date": person.birth_date.isoformat(),
        "language": holder.language,
        "commune": holder.commune,
        "dose2_only": holder.dose2_only,
        "bookings": [booking.to_json() for booking in found],
    }


@router.post("/callers/{caller}/bookings", status_code=201)
def book_for_caller(
    caller: IdPath, body: BookingRequest, request: Request, session: Helpline
) -> dict[str, Any]:
    ctx = context(request)
    booking, _created = book_dose(
        ctx.engine,
        caller,
        body.slot,
        body.dose,
        booked_by=f"helpline:{session.user.username}",
        now=ctx.clock(),
        answers=body.answers,
        guarded=ctx.booking_guard,
    )
    return _booked(request, session, "booking.created", booking)


@router.post("/callers/{caller}/bookings/{booking_id}/move")
def move_for_caller(
    caller: IdPath, booking_id: IdPath, body: MoveRequest, request: Request, session: Helpline
) -> dict[str, Any]:
    ctx = context(request)
    booking = move_booking(ctx.engine, caller, booking_id, body.slot, now=ctx.clock())
    return _booked(request, session, "booking.moved", booking)


@router.delete("/callers/{caller}/bookings/{booking_id}")
def cancel_for_caller(
    caller: IdPath, booking_id: IdPath, request: Request, session: Helpline
) -> dict[str, Any]:
    ctx = context(request)
    booking = cancel_booking(ctx.engine, caller, booking_id, now=ctx.clock())
    return _booked(request, session, "booking.cancelled", booking)
