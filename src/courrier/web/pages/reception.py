"""The reception desk's pages, without JavaScript: type (or scan with a keyboard scanner) a code, see the
booking with the name and birth date to compare with the identity document, check the person in; the
day's list; releasing no-show places.

The scan area (``section#scan-area``) and the JSON config (``script#reception-config``) are what the
reception JavaScript (``static/reception/``) takes over for camera scanning and offline check-in; the
contract between them is in docs/web.md (The centre).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.catalogue import CATALOGUE
from courrier.checkin.day import centre_day, release_no_shows
from courrier.checkin.desk import Answer, Scan, check_in, local_day
from courrier.codes.format import normalise
from courrier.db.transaction import write_transaction
from courrier.web.api.checkins import staff_centre
from courrier.web.app import STATIC
from courrier.web.auth import context
from courrier.web.inputs import form_day, form_id
from courrier.web.pages import csrf
from courrier.web.pages.render import FormTokenError, PageRoute, Visitor, error_text, gettext_for, render
from courrier.web.pages.staff import staff_page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SCRIPT = STATIC / "reception" / "reception.js"
WORKER = STATIC / "reception" / "sw.js"
# The refusals an offline desk makes itself, whose texts the config carries (in the staff's language).
OFFLINE_REASONS = (
    "no_booking_today",
    "already_checked_in",
    "booking_cancelled",
    "too_early",
    "too_late",
    "unknown_code",
    "unknown_booking",
    "code_revoked",
    "bad_reception_qr",
    "bad_token",
    "bad_signature",
    "unsupported_version",
    "unknown_key",
    "wrong_campaign",
    "wrong_length",
    "bad_character",
    "bad_check_character",
)
# Refusals only the offline desk gives (``static/reception/offline.js``): the server can always decide them.
OFFLINE_ONLY_REASONS = ("national_id_needs_network",)


def _messages(language: str) -> dict[str, str]:
    """The reception JavaScript's own texts, from the pages' catalogs."""
    _ = gettext_for(language)
    return {
        "camera_start": _("Scan with the camera"),
        "camera_stop": _("Stop the camera"),
        "camera_hint": _("Hold the QR code in front of the camera."),
        "camera_unavailable": _("The camera cannot be used here: type the code."),
        "next": _("Next person"),
        "checked_in": _("Checked in"),
        "checked_in_offline": _("Checked in offline: sent when the network is back"),
        "offline": _("Offline: check-ins are kept on this computer and sent when the network is back."),
        "queue_heading": _("Check-ins made offline"),
        "status_queued": _("waiting to be sent"),
        "status_ok": _("applied"),
        "status_conflict": _("conflict"),
        "status_refused": _("refused"),
        "dose": _("Dose %(dose)s"),
        "born": _("born %(date)s"),
    }


def _centre(request: Request, session: StaffSession) -> tuple[str, str]:
    """The desk's centre and the query string that keeps it on the page's links (admin names one)."""
    requested = request.query_params.get("centre") if session.user.centre_id is None else None
    with context(request).engine.connect() as connection:
        centre = staff_centre(connection, session, requested)
    return centre, (f"?centre={centre}" if session.user.centre_id is None else "")


def _config(found: Visitor, session: StaffSession, centre: str, day: dt.date) -> dict[str, Any]:
    query = f"?date={day.isoformat()}"
    return {
        "version": 1,
        "centre": centre,
        "date": day.isoformat(),
        "language": found.language,
        "desk": session.user.username,
        "csrf_token": session.csrf_token,
        "endpoints": {
            "checkin": "/api/v1/checkins",
            "preview": "/api/v1/checkins/preview",
            "batch": "/api/v1/checkins/batch",
            "offline": f"/api/v1/centres/{centre}/offline{query}",
            "day": f"/api/v1/centres/{centre}/day{query}",
            "worker": "/reception/sw.js",
        },
        "messages": _messages(found.language),
        "reasons": {
            code: CATALOGUE[code].template(found.language) for code in OFFLINE_REASONS + OFFLINE_ONLY_REASONS
        },
    }


def _page(
    request: Request,
    found: Visitor,
    session: StaffSession,
    centre: str,
    query: str,
    *,
    code: str = "",
    answer: Answer | None = None,
    nonce: str = "",
    scanned: bool = False,
    status: int = 200,
) -> Response:
    day = local_day(context(request).clock())
    refusal = None
    if answer is not None and answer.refusal is not None:
        refusal = {"code": answer.refusal.code, "text": error_text(answer.refusal, found.language)}
    return render(
        found,
        "reception.html",
        status=status,
        here="/reception" + query,
        centre=centre,
        centre_query=query,
        code=code,
        answer=answer,
        refusal=refusal,
        nonce=nonce,
        scanned=scanned,
        config=_config(found, session, centre, day),
        reception_script=SCRIPT.exists(),
    )


def _looks_scanned(text: str) -> bool:
    """A keyboard-wedge scanner types the QR's whole content: a URL, ``RDV1:…`` or a long token."""
    stripped = text.strip()
    return "://" in stripped or stripped.upper().startswith("RDV1:") or len(normalise(stripped)) > 20


async def _form(request: Request, session: StaffSession) -> dict[str, str]:
    form = await request.form()
    if not csrf.matches(session.csrf_token, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    return {key: (_text(form.get(key)) or "") for key in ("code", "nonce", "walk_in", "scanned")}


def _audit(connection: Any, session: StaffSession, answer: Answer, action: str, now: dt.datetime) -> None:
    person = answer.checkin.person if answer.checkin is not None else answer.person
    if person is None:
        return
    booking = answer.checkin.booking if answer.checkin is not None else answer.booking
    reference = booking.reference if booking is not None else None
    subject = f"checkin:{answer.checkin.id}" if answer.checkin is not None else f"booking:{reference}"
    audit(
        connection,
        session.user,
        action,
        subject,
        now=now,
        details={"status": answer.status, "booking": reference},
    )


@router.get("/reception/sw.js")
def reception_worker() -> Response:
    """The desk's service worker. Served here rather than from /static/, with a header that lets its
    scope be /reception itself: a worker's scope may not reach above its own path (/reception/ here)."""
    return FileResponse(
        WORKER, media_type="text/javascript", headers={"Service-Worker-Allowed": "/reception"}
    )


@router.get("/reception")
def reception_page(request: Request) -> Response:
    found, session = staff_page(request, "reception")
    centre, query = _centre(request, session)
    return _page(request, found, session, centre, query)


@router.post("/reception/lookup")
async def lookup(request: Request) -> Response:
    """Who the typed or scanned text names, and whether they may be checked in now (nothing written but
    the audit log): the booking, name and birth date, and the check-in button."""
    found, session = staff_page(request, "reception")
    centre, query = _centre(request, session)
    form = await _form(request, session)
    text = form["code"][:2000]
    scanned = _looks_scanned(text)
    ctx = context(request)
    now = ctx.clock()
    scan = Scan(text, scanned, "lookup", session.user.username, session.user.username)
    with write_transaction(ctx.engine) as connection:
        answer = check_in(connection, ctx.keys, scan, centre_id=centre, at=now, now=now, write=False)
        _audit(connection, session, answer, "checkin.previewed", now)
    return _page(
        request,
        found,
        session,
        centre,
        query,
        code=text,
        answer=answer,
        nonce=secrets.token_urlsafe(16),
        scanned=scanned,
    )


@router.post("/reception/checkins")
async def check_in_page(request: Request) -> Response:
    """Check the person in; the form's nonce makes a double click one check-in."""
    found, session = staff_page(request, "reception")
    centre, query = _centre(request, session)
    form = await _form(request, session)
    text = form["code"][:2000]
    nonce = form["nonce"][:64] or secrets.token_urlsafe(16)
    ctx = context(request)
    now = ctx.clock()
    scan = Scan(
        text,
        form["scanned"] == "1",
        nonce,
        session.user.username,
        session.user.username,
        form["walk_in"] == "1",
    )
    with write_transaction(ctx.engine) as connection:
        answer = check_in(
            connection, ctx.keys, scan, centre_id=centre, at=now, now=now, guarded=ctx.checkin_guard
        )
        _audit(connection, session, answer, "checkin.scanned", now)
    return _page(
        request, found, session, centre, query, answer=answer, status=201 if answer.status == "ok" else 200
    )


@router.get("/reception/day")
def day_page(request: Request) -> Response:
    """The centre's day: counts, every booking with its status, the walk-ins; the no-show release."""
    found, session = staff_page(request, "reception", "physician")
    centre, query = _centre(request, session)
    ctx = context(request)
    now = ctx.clock()
    day = local_day(now)
    asked = request.query_params.get("date")
    if asked:
        day = form_day(asked) or day
    with write_transaction(ctx.engine) as connection:
        found_day = centre_day(connection, centre, day, now=now)
        audit(
            connection,
            session.user,
            "day.viewed",
            f"centre:{centre}",
            now=now,
            details={"date": day.isoformat()},
        )
    released = request.query_params.get("released")
    return render(
        found,
        "reception_day.html",
        centre=centre,
        centre_query=query,
        day=found_day,
        may_release=session.user.role in ("reception", "admin"),
        staff_role=session.user.role,
        released=form_id(released),
    )


@router.post("/reception/day/no-shows")
async def release_page(request: Request) -> Response:
    found, session = staff_page(request, "reception")
    centre, query = _centre(request, session)
    form = await request.form()
    if not csrf.matches(session.csrf_token, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        released = release_no_shows(
            connection, centre, local_day(now), actor=f"reception:{session.user.username}", now=now
        )
    joiner = "&" if query else "?"
    return found.redirect(f"/reception/day{query}{joiner}released={released.released}")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
