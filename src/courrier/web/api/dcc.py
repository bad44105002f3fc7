"""``POST /api/v1/dcc/verify``: verify an EU Digital COVID Certificate, step by step.

The answer is the one ``courrier dcc verify --json`` prints: ``{"valid", "failed_step", "steps",
"payload"}``, against the DSC certificates and the revocation list of the server's DCC folder
(``COURRIER_DCC_DIR``), at the server's time. It holds no more than the QR code itself does, so it is open
to anyone, as verifier apps are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from courrier.certificates.pki import folder_trust
from courrier.certificates.revocation import FILE_NAME, read_revocations
from courrier.certificates.verify import verify_hc1
from courrier.web.auth import context

router = APIRouter(prefix="/api/v1", tags=["certificates"])


class Certificate(BaseModel):
    # A DCC's HC1: text is some 500 to 1,000 characters; a QR code holds at most 4,296.
    hc1: str = Field(max_length=4296)


@router.post("/dcc/verify")
def verify_certificate(body: Certificate, request: Request) -> dict[str, Any]:
    ctx = context(request)
    folder = Path(ctx.dcc_dir)
    revocations = folder / FILE_NAME
    revoked = read_revocations(revocations) if revocations.exists() else None
    return verify_hc1(body.hc1, folder_trust(folder), ctx.clock(), revoked).to_json()
