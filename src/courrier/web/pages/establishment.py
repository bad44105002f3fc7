"""The establishment's pages, without JavaScript: scan (a keyboard scanner types the QR) or type the
voucher's code, see whether it is genuine and the name on it to compare with the guest's ID, redeem it
with the stay's dates and the booking reference; its own redemptions, with an undo while it is allowed.
Its reimbursement statements, each one's PDF and CSV to download (its own only). And the registration
form for an establishment that wants to take vouchers (an operator approves it).

``section#scan-area`` and ``script#establishment-config`` are what ``static/establishment/`` takes over
to scan with the camera (the reception desk's decoder); docs/vouchers.md has the contract.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any

from fastapi import APIRouter, Request, Response

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.checkin.reading import public_raw
from courrier.db.transaction import write_transaction
from courrier.errors import ConflictError, CourrierError
from courrier.vouchers.establishments import register_establishment
from courrier.vouchers.redemption import (
    Answer,
    Scan,
    Stay,
    list_redemptions,
    preview_voucher,
    redeem_voucher,
    undo_redemption,
)
from courrier.vouchers.statement_files import euros
from courrier.vouchers.statements import LOCAL, establishment_statements, statement_file
from courrier.web.api.redemptions import staff_establishment
from courrier.web.app import STATIC
from courrier.web.auth import context
from courrier.web.inputs import IdPath, form_id
from courrier.web.pages import csrf
from courrier.web.pages.render import (
    LANGUAGE_NAMES,
    FormTokenError,
    PageRoute,
    Visitor,
    anonymous_form_ok,
    anonymous_form_token,
    error_text,
    gettext_for,
    render,
    visitor,
)
from courrier.web.pages.staff import staff_page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SCRIPT = STATIC / "establishment" / "establishment.js"
REGISTER = "/establishments/register"
REGISTER_FIELDS = ("name", "kind", "licence_number", "address", "postcode", "iban", "contact", "language")


def _messages(language: str) -> dict[str, str]:
    """The page script's own texts, from the pages' catalogs."""
    _ = gettext_for(language)
    return {
        "camera_start": _("Scan with the camera"),
        "camera_stop": _("Stop the camera"),
        "camera_hint": _("Hold the QR code in front of the camera."),
        "camera_unavailable": _("The camera cannot be used here: type the code."),
        "genuine": _("Genuine voucher: its signature is valid"),
        "forged": _("Not a genuine voucher: its signature does not match"),
    }


def _establishment(request: Request, session: StaffSession) -> tuple[str, str]:
    """The establishment and the query string that keeps it on the page's links (admin names one)."""
    requested = request.query_params.get("establishment") if session.user.establishment_id is None else None
    with context(request).engine.connect() as connection:
        found = staff_establishment(connection, session, requested)
    return found, (f"?establishment={found}" if session.user.establishment_id is None else "")


def _page(
    request: Request,
    found: Visitor,
    session: StaffSession,
    establishment: str,
    query: str,
    *,
    code: str = "",
    scanned: bool = False,
    answer: Answer | None = None,
    stay: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    undone: int | None = None,
    status: int = 200,
) -> Response:
    ctx = context(request)
    now = ctx.clock()
    with ctx.engine.connect() as connection:
        redemptions = list_redemptions(connection, establishment)
    undo_until = dt.timedelta(minutes=ctx.redemption_undo_minutes)
    refusal = None
    if answer is not None and answer.refusal is not None:
        refusal = {"code": answer.refusal.code, "text": error_text(answer.refusal, found.language)}
    today = now.date().isoformat()
    return render(
        found,
        "establishment.html",
        status=status,
        here="/establishment" + query,
        establishment=establishment,
        query=query,
        code=code,
        scanned=scanned,
        answer=answer,
        refusal=refusal,
        nonce=secrets.token_urlsafe(16),
        stay=stay or {"stay_from": today, "stay_to": today, "reference": ""},
        errors=errors or {},
        redemptions=redemptions,
        undoable={r.id for r in redemptions if r.undone_at is None and now <= r.redeemed_at + undo_until},
        undone=undone,
        config={
            "version": 1,
            "establishment": establishment,
            "language": found.language,
            "messages": _messages(found.language),
            "public_keys": {
                str(key_id): base64.b64encode(public_raw(ctx.keys, key_id)).decode("ascii")
                for key_id in ctx.keys.signing_keys
            },
        },
        establishment_script=SCRIPT.exists(),
    )


def _looks_scanned(text: str) -> bool:
    """A keyboard-wedge scanner types the QR's whole content: a URL or a 119-character token."""
    stripped = text.strip()
    return "://" in stripped or len(stripped) > 40


async def _form(request: Request, session: StaffSession, *names: str) -> dict[str, str]:
    form = await request.form()
    if not csrf.matches(session.csrf_token, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    return {key: (_text(form.get(key)) or "")[:2000] for key in names}


def _audit(connection: Any, session: StaffSession, answer: Answer, action: str, now: dt.datetime) -> None:
    if answer.voucher is None:
        return
    details = {"status": answer.status, "redemption": answer.redemption.id if answer.redemption else None}
    audit(connection, session.user, action, f"voucher:{answer.voucher.code_id}", now=now, details=details)


@router.get("/establishment")
def establishment_page(request: Request) -> Response:
    found, session = staff_page(request, "establishment")
    establishment, query = _establishment(request, session)
    undone = request.query_params.get("undone")
    return _page(
        request,
        found,
        session,
        establishment,
        query,
        undone=form_id(undone),
    )


@router.post("/establishment/check")
async def check_voucher(request: Request) -> Response:
    """Whether the voucher is genuine and may be redeemed, and the name on it (nothing written but the
    audit log), with the redeem form."""
    found, session = staff_page(request, "establishment")
    establishment, query = _establishment(request, session)
    form = await _form(request, session, "code")
    text = form["code"]
    scanned = _looks_scanned(text)
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        answer = preview_voucher(
            connection,
            ctx.keys,
            Scan(text, scanned, "preview", session.user.username),
            establishment_id=establishment,
            now=now,
        )
        _audit(connection, session, answer, "voucher.previewed", now)
    return _page(request, found, session, establishment, query, code=text, scanned=scanned, answer=answer)


def _stay(form: dict[str, str]) -> Stay:
    try:
        return Stay(
            dt.date.fromisoformat(form["stay_from"]),
            dt.date.fromisoformat(form["stay_to"]),
            form["reference"],
        )
    except ValueError:
        raise ConflictError("the stay's dates are not dates", code="bad_stay", field="stay_to") from None


@router.post("/establishment/redemptions")
async def redeem_page(request: Request) -> Response:
    """Redeem the voucher; the form's nonce makes a double click one redemption."""
    found, session = staff_page(request, "establishment")
    establishment, query = _establishment(request, session)
    form = await _form(request, session, "code", "scanned", "nonce", "stay_from", "stay_to", "reference")
    ctx = context(request)
    now = ctx.clock()
    scan = Scan(
        form["code"],
        form["scanned"] == "1",
        form["nonce"][:64] or secrets.token_urlsafe(16),
        session.user.username,
    )
    stay_values = {key: form[key] for key in ("stay_from", "stay_to", "reference")}
    try:
        with write_transaction(ctx.engine) as connection:
            answer = redeem_voucher(
                connection,
                ctx.keys,
                scan,
                _stay(form),
                establishment_id=establishment,
                amount_cents=ctx.voucher_value_cents,
                now=now,
                guarded=ctx.redemption_guard,
            )
            _audit(connection, session, answer, "voucher.redeemed", now)
    except ConflictError as error:
        if error.code != "bad_stay":
            raise
        with write_transaction(ctx.engine) as connection:
            preview = preview_voucher(connection, ctx.keys, scan, establishment_id=establishment, now=now)
        errors = {str(error.facts.get("field", "stay_to")): error_text(error, found.language)}
        return _page(
            request,
            found,
            session,
            establishment,
            query,
            code=form["code"],
            scanned=scan.scanned,
            answer=preview,
            stay=stay_values,
            errors=errors,
            status=422,
        )
    return _page(
        request,
        found,
        session,
        establishment,
        query,
        answer=answer,
        status=201 if answer.status == "ok" else 200,
    )


@router.post("/establishment/redemptions/{redemption_id}/undo")
async def undo_page(redemption_id: IdPath, request: Request) -> Response:
    found, session = staff_page(request, "establishment")
    establishment, query = _establishment(request, session)
    await _form(request, session)
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        undo_redemption(
            connection,
            redemption_id,
            establishment_id=establishment,
            by=session.user.username,
            now=ctx.clock(),
            undo_minutes=ctx.redemption_undo_minutes,
        )
    joiner = "&" if query else "?"
    return found.redirect(f"/establishment{query}{joiner}undone={redemption_id}")


_DOWNLOADS = {".pdf": "application/pdf", ".csv": "text/csv; charset=utf-8"}


@router.get("/establishment/statements")
def statements_page(request: Request) -> Response:
    """The establishment's reimbursement statements, newest first, each with its PDF and CSV."""
    found, session = staff_page(request, "establishment")
    establishment, query = _establishment(request, session)
    with context(request).engine.connect() as connection:
        issued = establishment_statements(connection, establishment)
    return render(
        found,
        "establishment_statements.html",
        here="/establishment/statements" + query,
        establishment=establishment,
        query=query,
        statements=[
            (statement, euros(statement.total_cents), statement.issued_at.astimezone(LOCAL).date())
            for statement in issued
        ],
    )


@router.get("/establishment/statements/{name}")
def statement_download(name: str, request: Request) -> Response:
    """``NUMBER.pdf`` or ``NUMBER.csv``: one of the establishment's own statements, as it was issued."""
    _found, session = staff_page(request, "establishment")
    establishment, _query = _establishment(request, session)
    number, dot, suffix = name.rpartition(".")
    with context(request).engine.connect() as connection:
        data = statement_file(connection, establishment, number, dot + suffix)
    return Response(
        data,
        media_type=_DOWNLOADS[dot + suffix],
        headers={"Content-Disposition": f'attachment; filename="{number}.{suffix}"'},
    )


@router.get(REGISTER)
def register_page(request: Request) -> Response:
    found = visitor(request)
    found.form_token = anonymous_form_token(found)
    return _register_form(found, {}, {})


@router.post(REGISTER)
async def register(request: Request) -> Response:
    """An establishment's registration: ``pending`` until an operator approves it; a problem is shown at
    its field."""
    found = visitor(request)
    form = await request.form()
    if not anonymous_form_ok(request, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    values = {name: (_text(form.get(name)) or "")[:400] for name in REGISTER_FIELDS}
    ctx = context(request)
    try:
        with write_transaction(ctx.engine) as connection:
            registered = register_establishment(connection, values, now=ctx.clock())
    except CourrierError as error:
        field = str(error.facts.get("field", "name"))
        return _register_form(found, values, {field: error_text(error, found.language)}, status=422)
    return render(found, "establishment_registered.html", here=REGISTER, registered=registered)


def _register_form(
    found: Visitor, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    found.form_token = anonymous_form_token(found)
    return render(
        found,
        "establishment_register.html",
        status=status,
        here=REGISTER,
        values=values,
        errors=errors,
        statement_languages=list(LANGUAGE_NAMES.items()),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
