"""The booking steps, the same for a citizen and for the helpline booking for a caller: health questions,
centre, day, time, then the booking; a booking's page; move (centre, day, time again) and cancel.

Each step is a plain GET form whose answer is the next step's query string (``?centre=ID&day=DATE``), so
the back button and a reload do what people expect and no JavaScript is needed; only taking, moving and
cancelling a place are POSTs, each with its form token. The health answers are health data: they travel
in an HttpOnly cookie bound to the session, never in an address.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection

from courrier.booking.bookings import (
    Booking,
    book_dose,
    cancel_booking,
    get_booking,
    list_bookings,
    move_booking,
)
from courrier.booking.confirmation import confirmation_pdf
from courrier.booking.policy import BookingPolicy, booking_policy
from courrier.booking.questions import campaign_questions, judge_answers, questions_in
from courrier.campaigns.definition import Question
from courrier.catalogue import http_status
from courrier.centres.store import get_centre
from courrier.errors import CodeError, ConflictError, CourrierError
from courrier.ledger.codes import REFUSALS
from courrier.web.auth import context
from courrier.web.inputs import DosePath, IdPath, form_day, form_id
from courrier.web.pages import csrf
from courrier.web.pages.queries import (
    Holder,
    booking_state,
    centres_for,
    dose_window,
    free_days,
    free_slots,
)
from courrier.web.pages.render import FormTokenError, Redirect, Visitor, error_text, gettext_for, render

ANSWERS_COOKIE = "courrier_answers"
ANSWERS_S = 30 * 60


@dataclass
class Flow:
    """Whose bookings these pages handle, and where their pages live."""

    visitor: Visitor
    holder: Holder
    # "" for the citizen's own pages, "/helpline/callers/REF" for the helpline's pages about a caller.
    base: str
    booked_by: str
    # What the health answers' cookie is bound to (the session).
    answers_key: str
    # Called after a booking is taken, moved or cancelled, or a caller's booking is viewed (the audit).
    on_action: Callable[[str, Booking], None] = lambda action, booking: None
    # The confirmation letter's language (None: the pages' language).
    letter_language: str | None = None

    @property
    def staff(self) -> bool:
        return bool(self.base)


FlowOf = Callable[[Request], Flow]


@dataclass(frozen=True)
class Step:
    """Booking a dose, or moving a booking: where its step pages live and which dose's rules apply."""

    path: str
    dose: int
    booking: Booking | None = None


def _book_step(flow: Flow, dose: int) -> Step:
    return Step(f"{flow.base}/book/{dose}", dose)


def _move_step(flow: Flow, connection: Connection, booking_id: int) -> Step:
    booking = get_booking(connection, flow.holder.code_id, booking_id)
    if booking.status != "booked":
        raise Redirect(f"{flow.base}/bookings/{booking.id}")
    _check_dose(booking_policy(connection, flow.holder.campaign_id), flow.holder, booking.dose)
    return Step(f"{flow.base}/bookings/{booking.id}/move", booking.dose, booking)


def _check_dose(policy: BookingPolicy, holder: Holder, dose: int) -> None:
    """The campaign has this dose and the code may still book it (past the code's validity: dose 2 when
    the policy allows it), refused as the booking would refuse it, before the person goes through the
    steps for nothing."""
    if not 1 <= dose <= policy.doses:
        raise ConflictError(f"dose {dose}: this campaign has doses 1 to {policy.doses}", code="bad_dose")
    status = holder.code_status
    if not policy.may_book(status, dose):
        raise CodeError(f"the code is {status}", code=REFUSALS.get(status, CodeError.code))


def _form_ok(flow: Flow, submitted: str | None) -> None:
    if not csrf.matches(flow.visitor.form_token, submitted):
        raise FormTokenError()


# --- health questions (booking.questions: asked at every dose, judged again by the booking) ---


def _answers_purpose(flow: Flow, dose: int) -> str:
    return f"answers:{flow.answers_key}:{dose}"


def _sign_answers(flow: Flow, dose: int, answers: dict[str, str]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(answers, sort_keys=True).encode()).decode().rstrip("=")
    return f"{body}.{csrf.sign(context(flow.visitor.request).keys, _answers_purpose(flow, dose), body)}"


def _read_answers(flow: Flow, dose: int) -> dict[str, str] | None:
    """The answers given for ``dose`` in this session, if their cookie is there and genuine."""
    value = flow.visitor.request.cookies.get(ANSWERS_COOKIE, "")
    body, _, mac = value.partition(".")
    keys = context(flow.visitor.request).keys
    if not body or not csrf.matches(csrf.sign(keys, _answers_purpose(flow, dose), body), mac):
        return None
    try:
        found = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else None


def _answered(flow: Flow, connection: Connection, dose: int) -> dict[str, str] | None:
    """The answers to book ``dose`` with: {} when the campaign asks nothing, None when they are still to
    be given (or no longer hold)."""
    asked = campaign_questions(connection, flow.holder.campaign_id)
    if not asked:
        return {}
    given = _read_answers(flow, dose)
    if given is None:
        return None
    try:
        return judge_answers(asked, given)
    except ConflictError:
        return None


def _questions_first(flow: Flow, connection: Connection, dose: int, centre: str | None = None) -> None:
    """Back to the questions when this dose's answers are not given yet."""
    if _answered(flow, connection, dose) is None:
        raise Redirect(f"{flow.base}/book/{dose}/questions" + (f"?centre={quote(centre)}" if centre else ""))


# --- the pages ---


def _page(
    flow: Flow, template: str, *, status: int = 200, here: str | None = None, **values: Any
) -> Response:
    return render(flow.visitor, template, status=status, here=here, flow=flow, base=flow.base, **values)


def centre_page(flow: Flow, connection: Connection, step: Step, error: str | None = None) -> Response:
    centres = centres_for(connection, flow.holder.commune)
    return _page(flow, "centre.html", step=step, centres=centres, error=error, status=422 if error else 200)


def day_page(flow: Flow, connection: Connection, step: Step, centre_id: str | None) -> Response:
    if not centre_id:
        _ = gettext_for(flow.visitor.language)
        return centre_page(flow, connection, step, error=_("Choose a centre."))
    centre = get_centre(connection, centre_id)
    policy, booked = booking_state(connection, flow.holder)
    window = dose_window(
        policy, [b for b in booked if step.booking is None or b.id != step.booking.id], step.dose
    )
    days = free_days(
        connection, flow.holder.campaign_id, centre.id, context(flow.visitor.request).clock(), window
    )
    return _page(flow, "day.html", step=step, centre=centre, days=days, window=window)


def time_page(
    flow: Flow,
    connection: Connection,
    step: Step,
    centre_id: str | None,
    day: str | None,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    if not centre_id:
        return day_page(flow, connection, step, None)
    centre = get_centre(connection, centre_id)
    chosen = form_day(day)
    if chosen is None:
        raise Redirect(f"{step.path}/day?centre={centre.id}")
    found = free_slots(
        connection, flow.holder.campaign_id, centre.id, chosen, context(flow.visitor.request).clock()
    )
    return _page(
        flow,
        "time.html",
        status=status,
        here=f"{step.path}/time?centre={centre.id}&day={chosen.isoformat()}",
        step=step,
        centre=centre,
        day=chosen,
        slots=found,
        error=error,
        idempotency_key=secrets.token_urlsafe(16),
    )


def add_flow_routes(router: APIRouter, prefix: str, flow_of: FlowOf) -> None:
    """The steps under ``prefix`` ("" for citizens, "/helpline/callers/{ref}" for the helpline)."""

    @router.get(prefix + "/book/{dose}")
    def start(dose: DosePath, request: Request, centre: str | None = None) -> Response:
        """The first step: the questions, then the centre (or, with ``centre``, its days: dose 2 offered
        at dose 1's centre)."""
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            policy, _ = booking_state(connection, flow.holder)
            _check_dose(policy, flow.holder, dose)
            _questions_first(flow, connection, dose, centre)
        raise Redirect(f"{flow.base}/book/{dose}/" + (f"day?centre={quote(centre)}" if centre else "centre"))

    @router.get(prefix + "/book/{dose}/questions")
    def questions(dose: DosePath, request: Request, centre: str | None = None) -> Response:
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            policy, _ = booking_state(connection, flow.holder)
            _check_dose(policy, flow.holder, dose)
            asked = campaign_questions(connection, flow.holder.campaign_id)
        if not asked:
            raise Redirect(f"{flow.base}/book/{dose}/centre")
        return _questions_page(flow, dose, asked, centre, _read_answers(flow, dose) or {})

    @router.post(prefix + "/book/{dose}/questions")
    async def answer_questions(dose: DosePath, request: Request) -> Response:
        flow = flow_of(request)
        form = await request.form()
        _form_ok(flow, _field(form, csrf.FIELD))
        with context(request).engine.connect() as connection:
            asked = campaign_questions(connection, flow.holder.campaign_id)
        centre = _field(form, "centre") or None
        answers = {q.id: answer for q in asked if (answer := _field(form, f"q-{q.id}"))}
        missing = [q.id for q in asked if q.id not in answers]
        if missing:
            return _questions_page(flow, dose, asked, centre, answers, missing=missing, status=422)
        try:
            kept = judge_answers(asked, answers)
        except ConflictError as error:
            if error.code != "see_your_doctor":
                wrong = [str(error.facts.get("question", ""))]
                return _questions_page(flow, dose, asked, centre, answers, missing=wrong, status=422)
            step = _book_step(flow, dose)
            return _page(flow, "doctor.html", here=f"{step.path}/questions", step=step)
        flow.visitor.set_cookie(ANSWERS_COOKIE, _sign_answers(flow, dose, kept), ANSWERS_S)
        following = f"day?centre={quote(centre)}" if centre else "centre"
        return flow.visitor.redirect(f"{flow.base}/book/{dose}/{following}")

    @router.get(prefix + "/book/{dose}/centre")
    def choose_centre(dose: DosePath, request: Request) -> Response:
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            policy, _ = booking_state(connection, flow.holder)
            _check_dose(policy, flow.holder, dose)
            _questions_first(flow, connection, dose)
            return centre_page(flow, connection, _book_step(flow, dose))

    @router.get(prefix + "/book/{dose}/day")
    def choose_day(dose: DosePath, request: Request, centre: str | None = None) -> Response:
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            _check_dose(booking_policy(connection, flow.holder.campaign_id), flow.holder, dose)
            _questions_first(flow, connection, dose, centre)
            return day_page(flow, connection, _book_step(flow, dose), centre)

    @router.get(prefix + "/book/{dose}/time")
    def choose_time(
        dose: DosePath, request: Request, centre: str | None = None, day: str | None = None
    ) -> Response:
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            _check_dose(booking_policy(connection, flow.holder.campaign_id), flow.holder, dose)
            _questions_first(flow, connection, dose, centre)
            return time_page(flow, connection, _book_step(flow, dose), centre, day)

    @router.post(prefix + "/book/{dose}")
    async def book(dose: DosePath, request: Request) -> Response:
        flow = flow_of(request)
        form = await request.form()
        _form_ok(flow, _field(form, csrf.FIELD))
        ctx = context(request)
        with ctx.engine.connect() as connection:
            answers = _answered(flow, connection, dose)
        if answers is None:
            raise Redirect(f"{flow.base}/book/{dose}/questions")
        step = _book_step(flow, dose)
        slot = _slot_field(form)
        if slot is None:
            return _refused(flow, step, form, None)
        try:
            booking, _created = book_dose(
                ctx.engine,
                flow.holder.code_id,
                slot,
                dose,
                booked_by=flow.booked_by,
                now=ctx.clock(),
                idempotency_key=_field(form, "idempotency_key"),
                answers=answers,
                guarded=ctx.booking_guard,
            )
        except CourrierError as error:
            return _refused(flow, step, form, error)
        flow.on_action("booking.created", booking)
        flow.visitor.clear_cookie(ANSWERS_COOKIE)
        return flow.visitor.redirect(f"{flow.base}/bookings/{booking.id}")

    @router.get(prefix + "/bookings/{booking_id}")
    def booking_page(booking_id: IdPath, request: Request) -> Response:
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            booking = get_booking(connection, flow.holder.code_id, booking_id)
            policy, booked = booking_state(connection, flow.holder)
        flow.on_action("booking.viewed", booking)
        dose2_open = (
            booking.dose == 1
            and booking.state == "active"
            and policy.doses >= 2
            and policy.may_book(flow.holder.code_status, 2)
            and not any(b.dose == 2 and b.state == "active" for b in booked)
        )
        window = dose_window(policy, booked, 2) if dose2_open else None
        return _page(
            flow,
            "booking.html",
            booking=booking,
            dose2_open=dose2_open,
            window=window,
            # Past the code's validity dose 1 can no longer be moved (nor booked again once cancelled).
            may_move=policy.may_book(flow.holder.code_status, booking.dose),
        )

    @router.get(prefix + "/bookings/{booking_id}/confirmation.pdf")
    def confirmation(booking_id: IdPath, request: Request) -> Response:
        """The confirmation letter (``booking.confirmation``) in the language of the pages."""
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            booking, pdf = confirmation_pdf(
                connection,
                flow.holder.code_id,
                booking_id,
                language=flow.letter_language or flow.visitor.language,
            )
        flow.on_action("confirmation.printed", booking)
        disposition = f'attachment; filename="confirmation-{booking.reference}.pdf"'
        return flow.visitor.apply(
            Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})
        )

    @router.get(prefix + "/bookings/{booking_id}/move")
    def move_start(booking_id: IdPath, request: Request) -> Response:
        raise Redirect(f"{flow_of(request).base}/bookings/{booking_id}/move/centre")

    @router.get(prefix + "/bookings/{booking_id}/move/centre")
    def move_centre(booking_id: IdPath, request: Request) -> Response:
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            return centre_page(flow, connection, _move_step(flow, connection, booking_id))

    @router.get(prefix + "/bookings/{booking_id}/move/day")
    def move_day(booking_id: IdPath, request: Request, centre: str | None = None) -> Response:
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            return day_page(flow, connection, _move_step(flow, connection, booking_id), centre)

    @router.get(prefix + "/bookings/{booking_id}/move/time")
    def move_time(
        booking_id: IdPath, request: Request, centre: str | None = None, day: str | None = None
    ) -> Response:
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            return time_page(flow, connection, _move_step(flow, connection, booking_id), centre, day)

    @router.post(prefix + "/bookings/{booking_id}/move")
    async def move(booking_id: IdPath, request: Request) -> Response:
        flow = flow_of(request)
        form = await request.form()
        _form_ok(flow, _field(form, csrf.FIELD))
        ctx = context(request)
        with ctx.engine.connect() as connection:
            step = _move_step(flow, connection, booking_id)
        slot = _slot_field(form)
        if slot is None:
            return _refused(flow, step, form, None)
        try:
            booking = move_booking(ctx.engine, flow.holder.code_id, booking_id, slot, now=ctx.clock())
        except CourrierError as error:
            return _refused(flow, step, form, error)
        flow.on_action("booking.moved", booking)
        return flow.visitor.redirect(f"{flow.base}/bookings/{booking.id}?moved=1")

    @router.get(prefix + "/bookings/{booking_id}/cancel")
    def cancel_page(booking_id: IdPath, request: Request) -> Response:
        flow = flow_of(request)
        with context(request).engine.connect() as connection:
            booking = get_booking(connection, flow.holder.code_id, booking_id)
            policy = booking_policy(connection, flow.holder.campaign_id)
        if booking.status != "booked":
            raise Redirect(f"{flow.base}/bookings/{booking.id}")
        return _page(
            flow,
            "cancel.html",
            booking=booking,
            rebookable=policy.may_book(flow.holder.code_status, booking.dose),
        )

    @router.post(prefix + "/bookings/{booking_id}/cancel")
    async def cancel(booking_id: IdPath, request: Request) -> Response:
        flow = flow_of(request)
        form = await request.form()
        _form_ok(flow, _field(form, csrf.FIELD))
        ctx = context(request)
        # Whether a dose-2 appointment goes with this one: the page says so only when one did.
        with ctx.engine.connect() as connection:
            held = list_bookings(connection, flow.holder.code_id)
        takes_dose2 = any(b.id == booking_id and b.dose == 1 and b.state == "active" for b in held) and any(
            b.dose == 2 and b.state == "active" for b in held
        )
        booking = cancel_booking(ctx.engine, flow.holder.code_id, booking_id, now=ctx.clock())
        flow.on_action("booking.cancelled", booking)
        notice = "cancelled=1&dose2=1" if takes_dose2 else "cancelled=1"
        return flow.visitor.redirect(f"{flow.base}/bookings/{booking.id}?{notice}")


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def _slot_field(form: Any) -> int | None:
    return form_id(_field(form, "slot"))


def _questions_page(
    flow: Flow,
    dose: int,
    asked: Sequence[Question],
    centre: str | None,
    answers: dict[str, str],
    *,
    missing: Sequence[str] = (),
    status: int = 200,
) -> Response:
    step = _book_step(flow, dose)
    return _page(
        flow,
        "questions.html",
        status=status,
        here=f"{step.path}/questions" + (f"?centre={quote(centre)}" if centre else ""),
        step=step,
        questions=questions_in(asked, flow.visitor.language),
        answers=answers,
        missing=list(missing),
        centre=centre,
    )


def _refused(flow: Flow, step: Step, form: Any, error: CourrierError | None) -> Response:
    """The time page again, the refusal (None: no time chosen) tied to the choice of time, in the
    person's language."""
    if error is None:
        _ = gettext_for(flow.visitor.language)
        text, status = _("Choose a time."), 422
    else:
        text, status = error_text(error, flow.visitor.language, staff=flow.staff), http_status(error)
    with context(flow.visitor.request).engine.connect() as connection:
        return time_page(
            flow, connection, step, _field(form, "centre"), _field(form, "day"), error=text, status=status
        )
