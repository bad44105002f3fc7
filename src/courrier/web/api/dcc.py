"""``POST /api/v1/dcc/verify``: verify an EU Digital COVID Certificate, step by step; and
``GET /api/v1/vaccinations/{id}/certificate.pdf``: the physician's printed certificate of a
record.

The verification's answer is the one ``courrier dcc verify --json`` prints: ``{"valid",
"failed_step", "steps", "payload"}``, against the DSC certificates and the revocation list of the
server's DCC folder (``COURRIER_DCC_DIR``), at the server's time. It holds no more than the QR code
itself does, so it is open to anyone, as verifier apps are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import Field

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.certificates.pki import folder_trust, load_signer
from courrier.certificates.revocation import FILE_NAME, read_revocations
from courrier.certificates.verify import Verification, verify_hc1
from courrier.checkin.certificate import vaccination_certificate_pdf
from courrier.checkin.vaccinations import get_vaccination
from courrier.db.transaction import write_transaction
from courrier.errors import AccountError, NotFoundError
from courrier.web.api.checkins import Physician, staff_centre
from courrier.web.auth import context
from courrier.web.i18n import request_language
from courrier.web.inputs import Body, IdPath

router = APIRouter(prefix="/api/v1", tags=["certificates"])


class Certificate(Body):
    # A DCC's HC1: text is some 500 to 1,000 characters; a QR code holds at most 4,296.
    hc1: str = Field(max_length=4296)


@router.post("/dcc/verify")
def verify_certificate(body: Certificate, request: Request) -> dict[str, Any]:
    return verify_here(request, body.hc1).to_json()


def verify_here(request: Request, hc1: str) -> Verification:
    """``hc1`` verified against the server's DCC folder (its DSCs, its revocation list), now: what the
    API answers and the verifier page shows."""
    ctx = context(request)
    folder = Path(ctx.dcc_dir)
    revocations = folder / FILE_NAME
    revoked = read_revocations(revocations) if revocations.exists() else None
    return verify_hc1(hc1, folder_trust(folder), ctx.clock(), revoked)


PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "the certificate (one A4 page)"}
}


@router.get("/vaccinations/{record_id}/certificate.pdf", response_class=Response, responses=PDF)
def vaccination_certificate(record_id: IdPath, request: Request, session: Physician) -> Response:
    """The EU DCC of a vaccination record of the physician's centre, as a PDF to print at the desk: in
    ``?lang=`` (fr, de, en; pt and lb get French) or else the person's register language. The same
    record gives the same certificate each time (docs/certificates.md). Audited
    (``certificate.printed``)."""
    ctx = context(request)
    language = request_language(request) if request.query_params.get("lang") else None
    with write_transaction(ctx.engine) as connection:
        _centre_of_record(connection, session, record_id)
        signer = load_signer(Path(ctx.dcc_dir), allow_shared=ctx.allow_shared_key_file)
        issued, pdf = vaccination_certificate_pdf(connection, record_id, signer, language=language)
        audit(
            connection,
            session.user,
            "certificate.printed",
            f"vaccination:{record_id}",
            now=ctx.clock(),
            details={"uvci": issued.uvci},
        )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{record_id}.pdf"'},
    )


def _centre_of_record(connection: Any, session: StaffSession, record_id: int) -> None:
    """Another centre's record is not found (``unknown_vaccination``), as for its history."""
    record = get_vaccination(connection, record_id)
    try:
        staff_centre(connection, session, record.centre)
    except AccountError:
        raise NotFoundError(f"no vaccination record {record_id}", code="unknown_vaccination") from None
