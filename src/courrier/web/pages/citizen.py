"""The citizen's pages: the code form (the letter's QR opens it filled in), the person's bookings, and
the booking steps (``flow``) under their session cookie.

The session cookie (``courrier_citizen``: HttpOnly, SameSite=Lax, Secure unless the app runs with
insecure cookies) holds the same token ``POST /api/v1/sessions`` gives, so it lasts 30 minutes and
nothing is stored.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from courrier.booking.bookings import Booking
from courrier.booking.code_entry import enter_code
from courrier.booking.policy import BookingPolicy
from courrier.booking.tokens import SESSION_MINUTES, make_token, read_token
from courrier.catalogue import http_status
from courrier.codes.format import format_code, normalise
from courrier.errors import CourrierError
from courrier.web.auth import client_address, context
from courrier.web.pages import csrf
from courrier.web.pages.flow import Flow, add_flow_routes
from courrier.web.pages.queries import Holder, booking_state, holder_of
from courrier.web.pages.render import (
    CITIZEN_COOKIE,
    FormTokenError,
    PageRoute,
    Redirect,
    Visitor,
    anonymous_form_ok,
    anonymous_form_token,
    error_text,
    gettext_for,
    render,
    visitor,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def citizen_flow(request: Request) -> Flow:
    """The signed-in citizen's flow; back to the code form when there is no live session."""
    ctx = context(request)
    token = request.cookies.get(CITIZEN_COOKIE)
    if not token:
        raise Redirect("/")
    try:
        code_id = read_token(ctx.keys, token, ctx.clock())
    except CourrierError:
        raise Redirect("/?ended=1") from None
    with ctx.engine.connect() as connection:
        holder = holder_of(connection, code_id, ctx.clock().date())
    found = visitor(request, holder.language)
    found.form_token = csrf.sign(ctx.keys, "citizen", token)
    return Flow(found, holder, base="", booked_by="citizen", answers_key=f"citizen:{token}")


def _has_session(request: Request) -> bool:
    token = request.cookies.get(CITIZEN_COOKIE)
    if not token:
        return False
    ctx = context(request)
    try:
        read_token(ctx.keys, token, ctx.clock())
    except CourrierError:
        return False
    return True


def _landing(
    found: Visitor, code: str = "", *, error: str | None = None, group: object = None, status: int = 200
) -> Response:
    found.form_token = anonymous_form_token(found)
    ended = found.request.query_params.get("ended") == "1"
    return render(
        found,
        "landing.html",
        status=status,
        here="/",
        code=code,
        error=error,
        group=group,
        ended=ended,
        signed_in=_has_session(found.request),
    )


@router.get("/")
def landing(request: Request) -> Response:
    return _landing(visitor(request))


@router.get("/c/{code}")
def landing_with_code(code: str, request: Request) -> Response:
    """The address in the letter's QR code: the code form with the code filled in (the person still
    presses the button, so a link alone never opens a session)."""
    typed = normalise(code)[:32]
    return _landing(visitor(request), format_code(typed) if typed.isalnum() else "")


@router.post("/code")
async def enter(request: Request) -> Response:
    form = await request.form()
    found = visitor(request)
    if not anonymous_form_ok(request, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    typed = (_text(form.get("code")) or "")[:64]
    ctx = context(request)
    if not typed.strip():
        _ = gettext_for(found.language)
        return _landing(found, error=_("Type the code printed on your letter."), status=422)
    try:
        holder = enter_code(ctx.engine, ctx.keys, typed, client=client_address(request), now=ctx.clock())
    except CourrierError as error:
        response = _landing(
            found,
            typed,
            error=error_text(error, found.language),
            group=error.facts.get("group"),
            status=http_status(error),
        )
        retry_after_s = getattr(error, "retry_after_s", None)
        if retry_after_s is not None:
            response.headers["Retry-After"] = str(retry_after_s)
        return response
    token = make_token(ctx.keys, holder.code_id, ctx.clock())
    found.set_cookie(CITIZEN_COOKIE, token, SESSION_MINUTES * 60)
    with ctx.engine.connect() as connection:
        _, booked = booking_state(connection, holder_of(connection, holder.code_id, ctx.clock().date()))
    has_dose1 = any(b.dose == 1 and b.state == "active" for b in booked)
    return found.redirect("/bookings" if has_dose1 else "/book/1")


@router.get("/bookings")
def my_bookings(request: Request) -> Response:
    flow = citizen_flow(request)
    with context(request).engine.connect() as connection:
        policy, booked = booking_state(connection, flow.holder)
    return render(flow.visitor, "bookings.html", flow=flow, base="", **offers(policy, flow.holder, booked))


@router.post("/leave")
async def leave(request: Request) -> Response:
    flow = citizen_flow(request)
    form = await request.form()
    if not csrf.matches(flow.visitor.form_token, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    flow.visitor.clear_cookie(CITIZEN_COOKIE)
    return flow.visitor.redirect("/")


def offers(policy: BookingPolicy, holder: Holder, booked: list[Booking]) -> dict[str, Any]:
    """The bookings and which doses may be booked next (dose 2 once dose 1 is booked; past the code's
    validity only what the campaign's policy still allows, with ``dose2_only`` to say so)."""
    active = {b.dose for b in booked if b.state == "active"}
    can_book = [
        dose
        for dose in range(1, policy.doses + 1)
        if dose not in active
        and (dose == 1 or dose - 1 in active)
        and policy.may_book(holder.code_status, dose)
    ]
    return {
        "bookings": booked,
        "can_book": can_book,
        "code_status": holder.code_status,
        "dose2_only": holder.code_status != "active" and policy.may_book(holder.code_status, 2),
    }


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


add_flow_routes(router, "", citizen_flow)
