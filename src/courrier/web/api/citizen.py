"""The citizen's API: a session from the personal code, centres, free slots, bookings."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError
from sqlalchemy import Connection, select

from courrier.booking.bookings import book_dose, cancel_booking, get_booking, list_bookings, move_booking
from courrier.booking.code_entry import enter_code
from courrier.booking.nearest import nearest_centres_for_code
from courrier.booking.questions import campaign_questions, questions_in
from courrier.booking.tokens import SESSION_MINUTES, make_token, read_token
from courrier.centres.store import LOCAL, list_centres
from courrier.db.schema import campaigns, codes, persons, slots
from courrier.errors import CodeError, NotFoundError
from courrier.web.auth import bearer_token, client_address, context, on_loop_or_thread
from courrier.web.i18n import request_language
from courrier.web.inputs import Body, DayQuery, Dose, DoseQuery, Id, IdPath
from courrier.web.json_body import documented_body, read_json_body, validated
from courrier.web.responses import FastJSONResponse

router = APIRouter(prefix="/api/v1", tags=["citizen"])


class CodeEntry(Body):
    code: str = Field(max_length=64)


class BookingRequest(Body):
    slot: Id
    dose: Dose = 1
    answers: dict[str, str] = Field(default_factory=dict)


class MoveRequest(Body):
    slot: Id


async def citizen_code(request: Request) -> int:
    """The code id of the caller's citizen session (``Authorization: Bearer TOKEN``)."""
    token = bearer_token(request)
    if token is None:
        raise CodeError("type your code first", code="bad_session")
    ctx = context(request)
    return read_token(ctx.keys, token, ctx.clock())


Citizen = Annotated[int, Depends(citizen_code)]


# The two routes of the opening rush are ``async``: on SQLite their database work (a few indexed reads, one
# short write transaction) runs on the event loop, which costs less than the thread pool's hand-over and
# keeps one connection per worker busy instead of a pool of them waiting on SQLite's write lock; on
# PostgreSQL it goes to the thread pool (``on_loop_or_thread``).
@router.post("/sessions", status_code=201, response_model=dict[str, Any])
async def open_citizen_session(entry: CodeEntry, request: Request) -> Response:
    ctx = context(request)
    now = ctx.clock()
    holder = await on_loop_or_thread(
        ctx, enter_code, ctx.engine, ctx.keys, entry.code, client=client_address(request), now=now
    )
    answer = {
        "token": make_token(ctx.keys, holder.code_id, now),
        "expires_in_s": SESSION_MINUTES * 60,
        "campaign": holder.campaign,
        "language": holder.language,
        "commune": holder.commune,
        "valid_until": holder.valid_until.isoformat() if holder.valid_until else None,
        # The code's validity is over, but dose 2 may still be booked, moved or cancelled with it.
        "dose2_only": holder.dose2_only,
    }
    return FastJSONResponse(answer, status_code=201)


@router.get("/centres")
def centres(request: Request) -> dict[str, Any]:
    """Every centre; with a citizen session, nearest to the person's commune first, with
    ``distance_km`` (``booking/nearest.py``)."""
    ctx = context(request)
    token = bearer_token(request)
    with ctx.engine.connect() as connection:
        if token is None:
            return {"centres": [centre.to_json() for centre in list_centres(connection)]}
        code_id = read_token(ctx.keys, token, ctx.clock())
        near = nearest_centres_for_code(connection, code_id)
    return {"centres": [item.to_json() for item in near]}


def _campaign_id(connection: Connection, request: Request, campaign: str | None) -> tuple[int, str | None]:
    """The campaign named by ``campaign=NAME`` (for anyone, staff included), or else the one of the
    caller's citizen session; with the session's person's language (None without a session)."""
    ctx = context(request)
    token = bearer_token(request)
    if campaign is None and token is not None:
        code_id = read_token(ctx.keys, token, ctx.clock())
        row = connection.execute(
            select(codes.c.campaign_id, persons.c.language)
            .join(persons, persons.c.id == codes.c.person_id)
            .where(codes.c.id == code_id)
        ).one()
        return int(row.campaign_id), str(row.language)
    if campaign is None:
        raise NotFoundError("give campaign=NAME or a session token", code="unknown_campaign")
    campaign_id = connection.execute(select(campaigns.c.id).where(campaigns.c.name == campaign)).scalar()
    if campaign_id is None:
        raise NotFoundError(f"no campaign {campaign!r}", code="unknown_campaign")
    return int(campaign_id), None


@router.get("/questions")
def questions(request: Request, campaign: str | None = None) -> dict[str, Any]:
    """The campaign's health questions, to answer in ``POST /bookings``: in ``?lang=``, the ``lang``
    cookie, or the session's person's language."""
    with context(request).engine.connect() as connection:
        campaign_id, person_language = _campaign_id(connection, request, campaign)
        found = campaign_questions(connection, campaign_id)
    language = request_language(request, person_language)
    return {"language": language, "questions": questions_in(found, language)}


@router.get("/slots")
def free_slots(
    request: Request,
    centre: str,
    date: DayQuery,
    dose: DoseQuery = 1,
    campaign: str | None = None,
) -> dict[str, Any]:
    """Free slots of a centre on a (local) day, for the caller's campaign (or ``campaign=NAME``)."""
    ctx = context(request)
    with ctx.engine.connect() as connection:
        campaign_id, _ = _campaign_id(connection, request, campaign)
        start = dt.datetime.combine(date, dt.time(), LOCAL)
        rows = connection.execute(
            select(slots.c.id, slots.c.starts_at, slots.c.ends_at, slots.c.capacity, slots.c.taken)
            .where(
                slots.c.campaign_id == campaign_id,
                slots.c.centre_id == centre,
                slots.c.starts_at >= start,
                slots.c.starts_at < start + dt.timedelta(days=1),
                slots.c.starts_at > ctx.clock(),
                slots.c.taken < slots.c.capacity,
            )
            .order_by(slots.c.starts_at)
        )
        found = [
            {
                "id": row.id,
                "starts_at": row.starts_at.isoformat(),
                "ends_at": row.ends_at.isoformat(),
                "remaining": row.capacity - row.taken,
            }
            for row in rows
        ]
    return {"slots": found, "dose": dose}


# The booking's Idempotency-Key header, validated and documented as FastAPI's ``Header(max_length=64)``
# of a ``str | None`` parameter would be.
_KEY_HEADER = "idempotency-key"
_MAX_KEY_LENGTH = 64
_idempotency_key = TypeAdapter(Annotated[str | None, Field(max_length=_MAX_KEY_LENGTH)])
_KEY_PARAMETER = {
    "name": _KEY_HEADER,
    "in": "header",
    "required": False,
    "schema": {
        "anyOf": [{"type": "string", "maxLength": _MAX_KEY_LENGTH}, {"type": "null"}],
        "title": "Idempotency-Key",
    },
}


def _refused_key(key: str, raw: Any) -> RequestValidationError:
    """A too-long Idempotency-Key refused as FastAPI refuses it: its error, then the body's (FastAPI
    validates the headers before the body and answers all their errors at once)."""
    errors: list[Any] = []
    try:
        _idempotency_key.validate_python(key)
    except ValidationError as error:
        errors += [
            {**found, "loc": ("header", _KEY_HEADER, *found["loc"])}
            for found in error.errors(include_url=False)
        ]
    try:
        validated(BookingRequest, raw)
    except RequestValidationError as error:
        errors += error.errors()
    return RequestValidationError(errors)


# The booking, half of the opening rush and most of the soak's mix, reads its body (web.json_body), its
# caller (citizen_code) and its Idempotency-Key itself, in the order FastAPI would, rather than through
# a body parameter, a dependency and a header parameter, whose resolution by FastAPI cost a booking
# about 190,000 instructions (a twelfth). The same answers (tests/web/test_booking_body.py), and the
# body and the header still documented in the OpenAPI spec.
@router.post(
    "/bookings",
    status_code=201,
    response_model=dict[str, Any],
    openapi_extra={"parameters": [_KEY_PARAMETER], **documented_body(BookingRequest)},
)
async def book(request: Request) -> Response:
    """Book a dose in a slot: 201 with the booking; with an ``Idempotency-Key`` header, the same key
    again answers 200 with the first booking."""
    # In FastAPI's order: the body's JSON (refused whoever sends it), who calls, the header, the body's
    # fields.
    raw = await read_json_body(request)
    code_id = await citizen_code(request)
    idempotency_key = request.headers.get(_KEY_HEADER)
    if idempotency_key is not None and len(idempotency_key) > _MAX_KEY_LENGTH:
        raise _refused_key(idempotency_key, raw)
    body = validated(BookingRequest, raw)
    ctx = context(request)
    booking, created = await on_loop_or_thread(
        ctx,
        book_dose,
        ctx.engine,
        code_id,
        body.slot,
        body.dose,
        booked_by="citizen",
        now=ctx.clock(),
        idempotency_key=idempotency_key,
        answers=body.answers,
        guarded=ctx.booking_guard,
    )
    return FastJSONResponse(booking.to_json(), status_code=201 if created else 200)


@router.get("/bookings")
def bookings(request: Request, code_id: Citizen) -> dict[str, Any]:
    with context(request).engine.connect() as connection:
        found = list_bookings(connection, code_id)
    return {"bookings": [booking.to_json() for booking in found]}


@router.get("/bookings/{booking_id}")
def booking(booking_id: IdPath, request: Request, code_id: Citizen) -> dict[str, Any]:
    with context(request).engine.connect() as connection:
        return get_booking(connection, code_id, booking_id).to_json()


@router.delete("/bookings/{booking_id}")
def cancel(booking_id: IdPath, request: Request, code_id: Citizen) -> dict[str, Any]:
    ctx = context(request)
    return cancel_booking(ctx.engine, code_id, booking_id, now=ctx.clock()).to_json()


@router.post("/bookings/{booking_id}/move")
def move(booking_id: IdPath, body: MoveRequest, request: Request, code_id: Citizen) -> dict[str, Any]:
    ctx = context(request)
    return move_booking(ctx.engine, code_id, booking_id, body.slot, now=ctx.clock()).to_json()
