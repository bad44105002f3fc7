"""The confirmation letter PDF of a booking, for the citizen and for the helpline (audited)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.booking.confirmation import confirmation_pdf
from courrier.db.transaction import write_transaction
from courrier.web.api.citizen import Citizen
from courrier.web.auth import context, staff_with_role
from courrier.web.i18n import request_language
from courrier.web.inputs import IdPath

router = APIRouter(prefix="/api/v1", tags=["confirmation"])
Helpline = Annotated[StaffSession, Depends(staff_with_role("helpline"))]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the confirmation letter (one A4 page)"}
}


def _chosen_language(request: Request) -> str | None:
    """``?lang=`` or the ``lang`` cookie when given; otherwise the person's register language."""
    if request.query_params.get("lang") or request.cookies.get("lang"):
        return request_language(request)
    return None


def _pdf(reference: str, pdf: bytes) -> Response:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="confirmation-{reference}.pdf"'},
    )


@router.get("/bookings/{booking_id}/confirmation.pdf", response_class=Response, responses=PDF)
def citizen_confirmation(booking_id: IdPath, request: Request, code_id: Citizen) -> Response:
    with context(request).engine.connect() as connection:
        booking, pdf = confirmation_pdf(connection, code_id, booking_id, language=_chosen_language(request))
    return _pdf(booking.reference, pdf)


@router.get(
    "/helpline/callers/{caller}/bookings/{booking_id}/confirmation.pdf",
    response_class=Response,
    responses=PDF,
)
def helpline_confirmation(
    caller: IdPath, booking_id: IdPath, request: Request, session: Helpline
) -> Response:
    ctx = context(request)
    with ctx.engine.connect() as connection:
        booking, pdf = confirmation_pdf(connection, caller, booking_id, language=_chosen_language(request))
    with write_transaction(ctx.engine) as connection:
        audit(
            connection,
            session.user,
            "confirmation.printed",
            f"code:{caller}",
            now=ctx.clock(),
            details={"booking": booking.reference},
        )
    return _pdf(booking.reference, pdf)
