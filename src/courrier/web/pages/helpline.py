"""The helpline's pages: find a caller by the code they read out, see their bookings, and book, move
or cancel for them through the same steps as the citizen (``flow``). Every view and action is written
to the audit log (``accounts.audit``).

A caller's pages live under ``/helpline/callers/{ref}``, where ``ref`` is the code's id signed for the
staff session (``ID-MAC``): a caller found in one staff session cannot be opened from another or by
counting ids, only by typing the caller's code again.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection, select

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.booking.bookings import Booking
from courrier.booking.code_entry import enter_code
from courrier.catalogue import http_status
from courrier.db.schema import codes, persons
from courrier.db.transaction import write_transaction
from courrier.errors import CourrierError
from courrier.web.auth import context
from courrier.web.inputs import form_id
from courrier.web.pages import csrf
from courrier.web.pages.citizen import offers
from courrier.web.pages.flow import Flow, add_flow_routes
from courrier.web.pages.queries import booking_state, holder_of
from courrier.web.pages.render import (
    LANGUAGE_NAMES,
    FormTokenError,
    PageRoute,
    Redirect,
    Visitor,
    error_text,
    render,
)
from courrier.web.pages.staff import staff_page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CALLER = "/helpline/callers/{ref}"


def caller_ref(request: Request, session: StaffSession, code_id: int) -> str:
    return f"{code_id}-{csrf.sign(context(request).keys, f'caller:{session.token}', str(code_id))}"


def _caller_id(request: Request, session: StaffSession, ref: str) -> int:
    """The code id of a caller reference made for this session; back to the search otherwise."""
    code_id = form_id(ref.partition("-")[0])
    if code_id is None or not csrf.matches(caller_ref(request, session, code_id), ref):
        raise Redirect("/helpline")
    return code_id


def _audit(request: Request, session: StaffSession, action: str, code_id: int, **details: object) -> None:
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        audit(connection, session.user, action, f"code:{code_id}", now=ctx.clock(), details=details)


def _helpline(request: Request) -> tuple[Flow, StaffSession]:
    found, session = staff_page(request, "helpline")
    ref = str(request.path_params.get("ref", ""))
    code_id = _caller_id(request, session, ref)
    with context(request).engine.connect() as connection:
        holder = holder_of(connection, code_id, context(request).clock().date())

    def on_action(action: str, booking: Booking) -> None:
        _audit(request, session, action, code_id, booking=booking.reference, dose=booking.dose)

    flow = Flow(
        found,
        holder,
        base=f"/helpline/callers/{ref}",
        booked_by=f"helpline:{session.user.username}",
        answers_key=f"staff:{session.token}:{code_id}",
        on_action=on_action,
        # The confirmation letter is for the caller: in their language, whatever the staff member reads.
        letter_language=holder.language,
    )
    return flow, session


def helpline_flow(request: Request) -> Flow:
    return _helpline(request)[0]


def _find_page(
    found: Visitor, code: str = "", *, error: str | None = None, group: object = None, status: int = 200
) -> Response:
    return render(
        found, "helpline_find.html", status=status, here="/helpline", code=code, error=error, group=group
    )


@router.get("/helpline")
def find_page(request: Request) -> Response:
    found, _session = staff_page(request, "helpline")
    return _find_page(found)


@router.post("/helpline/callers")
async def find_caller(request: Request) -> Response:
    found, session = staff_page(request, "helpline")
    form = await request.form()
    if not csrf.matches(session.csrf_token, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    typed = (_text(form.get("code")) or "")[:64]
    ctx = context(request)
    try:
        holder = enter_code(
            ctx.engine, ctx.keys, typed, client=f"staff:{session.user.username}", now=ctx.clock()
        )
    except CourrierError as error:
        return _find_page(
            found,
            typed,
            error=error_text(error, found.language),
            group=error.facts.get("group"),
            status=http_status(error),
        )
    return found.redirect(f"/helpline/callers/{caller_ref(request, session, holder.code_id)}")


@router.get(CALLER)
def caller_page(ref: str, request: Request) -> Response:
    """Who the caller is and their bookings; every view is audited (``code.viewed``)."""
    flow, session = _helpline(request)
    with context(request).engine.connect() as connection:
        person = _person(connection, flow.holder.code_id)
        policy, booked = booking_state(connection, flow.holder)
    _audit(request, session, "code.viewed", flow.holder.code_id)
    caller = {
        "name": f"{person.given_names} {person.family_name}",
        "birth_date": person.birth_date,
        # The language's own name, as the switcher shows it ("Lëtzebuergesch", not "lb").
        "language": LANGUAGE_NAMES.get(flow.holder.language, flow.holder.language),
        "commune": flow.holder.commune,
    }
    return render(
        flow.visitor,
        "bookings.html",
        flow=flow,
        base=flow.base,
        caller=caller,
        **offers(policy, flow.holder, booked),
    )


def _person(connection: Connection, code_id: int) -> Any:
    return connection.execute(
        select(persons.c.given_names, persons.c.family_name, persons.c.birth_date)
        .join(codes, codes.c.person_id == persons.c.id)
        .where(codes.c.id == code_id)
    ).one()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


add_flow_routes(router, CALLER, helpline_flow)
