"""The establishment's API: check a voucher, redeem it (once, keyed by a nonce), undo a mistaken scan,
its own list; and the print shop's approval of establishments that registered on the form.

Every route takes a staff session (``Authorization: Bearer TOKEN``, or the pages' ``courrier_staff``
cookie with ``X-CSRF-Token`` on writes: ``web.auth``). An establishment account works for its own
establishment only; admin names one (``establishment``). A view of the name on a voucher is audited in
the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field, model_validator
from sqlalchemy import Connection

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.catalogue import message
from courrier.db.transaction import write_transaction
from courrier.errors import AccountError
from courrier.vouchers.establishments import approve_establishment, get_establishment, list_establishments
from courrier.vouchers.redemption import (
    Answer,
    Scan,
    Stay,
    list_redemptions,
    preview_voucher,
    redeem_voucher,
    undo_redemption,
)
from courrier.web.auth import context, on_loop_or_thread, staff_with_role
from courrier.web.i18n import request_language
from courrier.web.inputs import Body, IdPath
from courrier.web.json_body import documented_body, read_json_body, validated
from courrier.web.responses import FastJSONResponse

router = APIRouter(prefix="/api/v1", tags=["establishment"])

_establishment_staff = staff_with_role("establishment")
EstablishmentStaff = Annotated[StaffSession, Depends(_establishment_staff)]
Operator = Annotated[StaffSession, Depends(staff_with_role("operator"))]


def staff_establishment(connection: Connection, session: StaffSession, requested: str | None) -> str:
    """The establishment the caller works at: their account's (another one is ``forbidden``), or for
    admin the one named (``unknown_establishment`` if none is)."""
    own = session.user.establishment_id
    if own is not None:
        if requested is not None and requested.upper() != own:
            raise AccountError("your account is for another establishment", code="forbidden")
        return own
    return get_establishment(connection, (requested or "").upper()).id


class VoucherInput(Body):
    scan: str | None = Field(default=None, max_length=2000)
    code: str | None = Field(default=None, max_length=64)
    establishment: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _one_input(self) -> VoucherInput:
        if (self.scan is None) == (self.code is None):
            raise ValueError('give exactly one of "scan" and "code"')
        return self


class RedemptionBody(VoucherInput):
    stay_from: dt.date
    stay_to: dt.date
    reference: str = Field(max_length=64)
    nonce: str = Field(min_length=1, max_length=64)


def answer_json(request: Request, answer: Answer) -> dict[str, Any]:
    """The answer, a refusal's message in the request's language."""
    found = answer.to_json()
    if answer.refusal is not None:
        found["reason"]["message"] = message(answer.refusal, request_language(request))
    return found


def _scan(body: VoucherInput, session: StaffSession, nonce: str) -> Scan:
    text = body.scan if body.scan is not None else body.code
    assert text is not None
    return Scan(text, body.scan is not None, nonce, session.user.username)


def _audit(
    connection: Connection, session: StaffSession, answer: Answer, action: str, now: dt.datetime
) -> None:
    if answer.voucher is None:
        return
    subject = f"voucher:{answer.voucher.code_id}"
    details = {"status": answer.status, "redemption": answer.redemption.id if answer.redemption else None}
    audit(connection, session.user, action, subject, now=now, details=details)


def _redeem(request: Request, session: StaffSession, body: RedemptionBody) -> Answer:
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        establishment = staff_establishment(connection, session, body.establishment)
        answer = redeem_voucher(
            connection,
            ctx.keys,
            _scan(body, session, body.nonce),
            Stay(body.stay_from, body.stay_to, body.reference),
            establishment_id=establishment,
            amount_cents=ctx.voucher_value_cents,
            now=now,
            guarded=ctx.redemption_guard,
        )
        _audit(connection, session, answer, "voucher.redeemed", now)
    return answer


# The redemption reads its body (web.json_body) and its caller (_establishment_staff) itself, in the
# order FastAPI would, rather than through a body parameter and a dependency: FastAPI's resolution of
# the two cost a redemption about 130,000 instructions (a twenty-fifth). The same answers
# (tests/vouchers/test_redemption_body.py), and the body still documented in the OpenAPI spec.
@router.post(
    "/redemptions",
    status_code=201,
    response_model=dict[str, Any],
    openapi_extra=documented_body(RedemptionBody),
)
async def post_redemption(request: Request) -> Response:
    """Redeem a voucher: 201 ``ok`` with the amount, or 200 ``refused`` with the reason (a refusal writes
    nothing). The same nonce again answers as the first time (header ``Idempotent-Replayed: true``)."""
    # In FastAPI's order: the body's JSON (refused whoever sends it), who calls, the body's fields.
    raw = await read_json_body(request)
    session = await _establishment_staff(request)
    body = validated(RedemptionBody, raw)
    answer = await on_loop_or_thread(context(request), _redeem, request, session, body)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    status = 201 if answer.status == "ok" else 200
    return FastJSONResponse(answer_json(request, answer), status_code=status, headers=headers)


def _preview(request: Request, session: StaffSession, body: VoucherInput) -> Answer:
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        establishment = staff_establishment(connection, session, body.establishment)
        answer = preview_voucher(
            connection, ctx.keys, _scan(body, session, "preview"), establishment_id=establishment, now=now
        )
        _audit(connection, session, answer, "voucher.previewed", now)
    return answer


# Its body and caller read as the redemption's are (above): a desk previews each voucher before it
# redeems it, so the preview is as busy. Like the redemption it is async (on the event loop for SQLite:
# web.auth.on_loop_or_thread) and answers through FastJSONResponse, not FastAPI's thread pool and its
# serialization of the returned dict.
@router.post(
    "/redemptions/preview", response_model=dict[str, Any], openapi_extra=documented_body(VoucherInput)
)
async def preview_redemption(request: Request) -> Response:
    """Whether the voucher is genuine and may be redeemed now, and the name on it to compare with the
    guest's ID (``ready``), or the refusal; writes nothing but the audit log (``voucher.previewed``)."""
    raw = await read_json_body(request)
    session = await _establishment_staff(request)
    body = validated(VoucherInput, raw)
    answer = await on_loop_or_thread(context(request), _preview, request, session, body)
    return FastJSONResponse(answer_json(request, answer))


@router.get("/redemptions")
def own_redemptions(
    request: Request, session: EstablishmentStaff, establishment: str | None = None
) -> dict[str, Any]:
    """The establishment's own redemptions, newest first (undone ones too), with the undo time."""
    ctx = context(request)
    with ctx.engine.connect() as connection:
        found = staff_establishment(connection, session, establishment)
        listed = list_redemptions(connection, found)
    return {
        "establishment": found,
        "undo_minutes": ctx.redemption_undo_minutes,
        "redemptions": [redemption.to_json() for redemption in listed],
    }


@router.delete("/redemptions/{redemption_id}")
def delete_redemption(
    redemption_id: IdPath, request: Request, session: EstablishmentStaff, establishment: str | None = None
) -> dict[str, Any]:
    """Undo a mistaken redemption within the undo time, by the establishment that made it; the voucher
    may be redeemed again."""
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        found = staff_establishment(connection, session, establishment)
        undone = undo_redemption(
            connection,
            redemption_id,
            establishment_id=found,
            by=session.user.username,
            now=now,
            undo_minutes=ctx.redemption_undo_minutes,
        )
    return {"status": "undone", **undone.to_json()}


@router.get("/staff/establishments")
def staff_establishments(request: Request, session: Operator, status: str | None = None) -> dict[str, Any]:
    """The establishments (``status=pending``: those waiting for approval)."""
    with context(request).engine.connect() as connection:
        found = list_establishments(connection, status)
    return {"establishments": [establishment.to_json() for establishment in found]}


@router.post("/staff/establishments/{establishment_id}/approve")
def approve(establishment_id: str, request: Request, session: Operator) -> dict[str, Any]:
    """Approve an establishment that registered on the form (as ``courrier establishments approve``)."""
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        found = approve_establishment(
            connection, establishment_id.upper(), actor=f"operator:{session.user.username}", now=ctx.clock()
        )
    return found.to_json()
