"""The physician's pages, without JavaScript: the people checked in today, one person's check-in with
their vaccination history, the form that records the dose given (EU DCC value sets), corrections (a
new record that supersedes the old one), and after a dose that is not the last, whether the next one is
booked, with the free places at the centre to book it."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request, Response

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.booking.bookings import book_dose
from courrier.booking.questions import campaign_questions, questions_in
from courrier.catalogue import http_status
from courrier.checkin.day import centre_day
from courrier.checkin.desk import Checkin, get_checkin, local_day
from courrier.checkin.next_dose import free_slots_for, next_dose
from courrier.checkin.vaccinations import (
    Dose,
    correct_vaccination,
    get_vaccination,
    record_vaccination,
    vaccination_history,
)
from courrier.checkin.valuesets import value_set
from courrier.db.transaction import write_transaction
from courrier.errors import AccountError, CourrierError, NotFoundError
from courrier.web.api.checkins import staff_centre
from courrier.web.auth import context
from courrier.web.inputs import IdPath, form_id
from courrier.web.pages import csrf
from courrier.web.pages.render import FormTokenError, PageRoute, Redirect, Visitor, error_text, render
from courrier.web.pages.staff import staff_page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
DOSE_FIELDS = ("product", "manufacturer", "prophylaxis", "lot", "dose_number", "series_doses")


def _choices() -> dict[str, list[tuple[str, str]]]:
    return {
        field: sorted(
            ((v.code, v.display) for v in value_set(field).values() if v.active), key=lambda c: c[1]
        )
        for field in ("product", "manufacturer", "prophylaxis")
    }


def _checkin_for(request: Request, session: StaffSession, checkin_id: int) -> tuple[Checkin, str]:
    """The check-in, if it is at the physician's centre (another centre's is not found)."""
    with context(request).engine.connect() as connection:
        checkin = get_checkin(connection, checkin_id)
        try:
            staff_centre(connection, session, checkin.centre)
        except AccountError:
            raise NotFoundError(f"no check-in {checkin_id}", code="unknown_checkin") from None
    query = f"?centre={checkin.centre}" if session.user.centre_id is None else ""
    return checkin, query


@router.get("/physician")
def arrivals_page(request: Request) -> Response:
    found, session = staff_page(request, "physician")
    requested = request.query_params.get("centre") if session.user.centre_id is None else None
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        centre = staff_centre(connection, session, requested)
        day = centre_day(connection, centre, local_day(now), now=now)
        audit(connection, session.user, "day.viewed", f"centre:{centre}", now=now)
    query = f"?centre={centre}" if session.user.centre_id is None else ""
    waiting = [e for e in day.bookings if e.status == "arrived"] + [
        w for w in day.walk_ins if w.state == "arrived"
    ]
    done = [e for e in day.bookings if e.status == "done"] + [w for w in day.walk_ins if w.state == "done"]
    return render(found, "physician.html", centre=centre, centre_query=query, waiting=waiting, done=done)


def _checkin_page(
    request: Request,
    found: Visitor,
    session: StaffSession,
    checkin: Checkin,
    query: str,
    *,
    error: CourrierError | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        history = vaccination_history(connection, checkin.person_id)
        audit(connection, session.user, "history.viewed", f"checkin:{checkin.id}", now=now)
        mine = [r for r in history if r.checkin == checkin.id and r.current]
        nxt = free = None
        questions: list[Any] = []
        if mine and mine[-1].dose_number < mine[-1].series_doses:
            nxt = next_dose(connection, checkin.code_id, checkin.campaign_id, mine[-1].dose_number)
            if nxt is not None and nxt.booking is None:
                free = free_slots_for(connection, checkin.campaign_id, checkin.centre, nxt, now)
                questions = questions_in(campaign_questions(connection, checkin.campaign_id), found.language)
    defaults = {"dose_number": str(checkin.dose), "series_doses": "2", "lot": ""}
    return render(
        found,
        "physician_checkin.html",
        status=status,
        here=f"/physician/checkins/{checkin.id}{query}",
        checkin=checkin,
        centre_query=query,
        history=history,
        record=mine[-1] if mine else None,
        next_dose=nxt,
        free_slots=free or [],
        questions=questions,
        choices=_choices(),
        values={**defaults, **(values or {})},
        error=None
        if error is None
        else {
            "code": error.code,
            "text": error_text(error, found.language),
            "field": error.facts.get("field"),
        },
        nonce=secrets.token_urlsafe(16),
        recorded=request.query_params.get("recorded") == "1",
        booked=request.query_params.get("booked") == "1",
    )


@router.get("/physician/checkins/{checkin_id}")
def checkin_page(checkin_id: IdPath, request: Request) -> Response:
    found, session = staff_page(request, "physician")
    checkin, query = _checkin_for(request, session, checkin_id)
    return _checkin_page(request, found, session, checkin, query)


async def _form(request: Request, session: StaffSession) -> dict[str, str]:
    form = await request.form()
    if not csrf.matches(session.csrf_token, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    return {key: (_text(value) or "") for key, value in form.multi_items()}


def _dose(form: dict[str, str]) -> Dose:
    def number(name: str) -> int:
        text = form.get(name, "").strip()
        return form_id(text, 99) or 0

    return Dose(
        form.get("product", "")[:32],
        form.get("manufacturer", "")[:32],
        form.get("prophylaxis", "")[:32],
        form.get("lot", "")[:64],
        number("dose_number"),
        number("series_doses"),
    )


@router.post("/physician/checkins/{checkin_id}/vaccinations")
async def record_page(checkin_id: IdPath, request: Request) -> Response:
    found, session = staff_page(request, "physician")
    checkin, query = _checkin_for(request, session, checkin_id)
    form = await _form(request, session)
    ctx = context(request)
    now = ctx.clock()
    try:
        with write_transaction(ctx.engine) as connection:
            record, _created = record_vaccination(
                connection,
                checkin_id,
                _dose(form),
                centre_id=checkin.centre,
                physician=session.user.username,
                nonce=form.get("nonce", "")[:64] or secrets.token_urlsafe(16),
                now=now,
            )
            audit(connection, session.user, "vaccination.recorded", f"vaccination:{record.id}", now=now)
    except CourrierError as error:
        return _checkin_page(
            request, found, session, checkin, query, error=error, values=form, status=http_status(error)
        )
    joiner = "&" if query else "?"
    return found.redirect(f"/physician/checkins/{checkin_id}{query}{joiner}recorded=1")


@router.post("/physician/checkins/{checkin_id}/next-dose")
async def book_next_dose(checkin_id: IdPath, request: Request) -> Response:
    """Book the next dose in the chosen free place (the form's nonce: a double click is one booking)."""
    found, session = staff_page(request, "physician")
    checkin, query = _checkin_for(request, session, checkin_id)
    form = await _form(request, session)
    slot = form.get("slot", "")
    slot_id = form_id(slot)
    if slot_id is None:
        raise Redirect(f"/physician/checkins/{checkin_id}{query}")
    answers = {key[2:]: value for key, value in form.items() if key.startswith("q-")}
    ctx = context(request)
    with ctx.engine.connect() as connection:
        history = vaccination_history(connection, checkin.person_id)
    given = max((r.dose_number for r in history if r.current), default=checkin.dose)
    try:
        booking, _created = book_dose(
            ctx.engine,
            checkin.code_id,
            slot_id,
            given + 1,
            booked_by=f"physician:{session.user.username}",
            now=ctx.clock(),
            idempotency_key=form.get("nonce", "")[:64] or None,
            answers=answers,
            guarded=ctx.booking_guard,
        )
    except CourrierError as error:
        return _checkin_page(request, found, session, checkin, query, error=error, status=http_status(error))
    with write_transaction(ctx.engine) as connection:
        audit(
            connection,
            session.user,
            "booking.created",
            f"code:{checkin.code_id}",
            now=ctx.clock(),
            details={"booking": booking.reference, "dose": booking.dose},
        )
    joiner = "&" if query else "?"
    return found.redirect(f"/physician/checkins/{checkin_id}{query}{joiner}booked=1")


def _correction_page(
    request: Request,
    found: Visitor,
    record_id: int,
    query: str,
    values: dict[str, str],
    *,
    error: CourrierError | None = None,
    status: int = 200,
) -> Response:
    return render(
        found,
        "physician_correct.html",
        status=status,
        here=f"/physician/vaccinations/{record_id}/correct{query}",
        record_id=record_id,
        centre_query=query,
        choices=_choices(),
        values=values,
        error=None
        if error is None
        else {
            "code": error.code,
            "text": error_text(error, found.language),
            "field": error.facts.get("field"),
        },
        nonce=secrets.token_urlsafe(16),
    )


def _record_for(request: Request, session: StaffSession, record_id: int) -> tuple[Any, str]:
    with context(request).engine.connect() as connection:
        record = get_vaccination(connection, record_id)
        try:
            staff_centre(connection, session, record.centre)
        except AccountError:
            raise NotFoundError(f"no vaccination record {record_id}", code="unknown_vaccination") from None
    return record, (f"?centre={record.centre}" if session.user.centre_id is None else "")


@router.get("/physician/vaccinations/{record_id}/correct")
def correction_page(record_id: IdPath, request: Request) -> Response:
    found, session = staff_page(request, "physician")
    record, query = _record_for(request, session, record_id)
    values = {field: str(getattr(record, field)) for field in DOSE_FIELDS}
    return _correction_page(request, found, record_id, query, values)


@router.post("/physician/vaccinations/{record_id}/correct")
async def correct_page(record_id: IdPath, request: Request) -> Response:
    found, session = staff_page(request, "physician")
    record, query = _record_for(request, session, record_id)
    form = await _form(request, session)
    ctx = context(request)
    now = ctx.clock()
    try:
        with write_transaction(ctx.engine) as connection:
            new, _created = correct_vaccination(
                connection,
                record_id,
                _dose(form),
                centre_id=record.centre,
                physician=session.user.username,
                nonce=form.get("nonce", "")[:64] or secrets.token_urlsafe(16),
                reason=form.get("reason", ""),
                now=now,
            )
            audit(connection, session.user, "vaccination.corrected", f"vaccination:{new.id}", now=now)
    except CourrierError as error:
        return _correction_page(
            request, found, record_id, query, form, error=error, status=http_status(error)
        )
    joiner = "&" if query else "?"
    return found.redirect(f"/physician/checkins/{record.checkin}{query}{joiner}recorded=1")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
