"""The certificate verifier's page: scan an EU Digital COVID Certificate with the camera (as at the
reception desk) or paste its ``HC1:`` text, and see whether it is valid, with only the holder's name
and birth date, as the national verifier apps show it (nothing else of the payload, and no name at all
for a certificate that is not valid: a forged one's name means nothing).

Without JavaScript the form posts the text and the server answers with the page. With it,
``static/verifier/verifier.js`` adds the camera (the reception's ``camera.js`` and WebAssembly decoder)
and asks ``POST /api/v1/dcc/verify`` for each code it reads. Open to anyone, as the API is.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from fastapi import APIRouter, Request, Response

from courrier.certificates.verify import Verification
from courrier.web.api.dcc import verify_here
from courrier.web.app import STATIC
from courrier.web.pages import csrf
from courrier.web.pages.render import (
    FormTokenError,
    PageRoute,
    Visitor,
    anonymous_form_ok,
    anonymous_form_token,
    gettext_for,
    render,
    visitor,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SCRIPT = STATIC / "verifier" / "verifier.js"
MAX_TEXT = 4296  # what a QR code holds at most, as the API takes


def outcome(verification: Verification) -> dict[str, Any]:
    """What the page shows of a verification: valid or not (and the first step that failed), and for a
    valid certificate the holder's names as written and the birth date; nothing else."""
    if not verification.valid:
        return {"valid": False, "failed_step": verification.failed_step}
    payload = verification.payload or {}
    names = payload.get("nam", {})
    return {
        "valid": True,
        "failed_step": None,
        "name": " ".join(part for part in (names.get("gn"), names.get("fn")) if part),
        "birth_date": payload.get("dob", ""),
    }


def _messages(language: str) -> dict[str, str]:
    """The script's texts, from the pages' catalogs."""
    _ = gettext_for(language)
    return {
        "camera_start": _("Scan with the camera"),
        "camera_stop": _("Stop the camera"),
        "camera_hint": _("Hold the QR code in front of the camera."),
        "camera_unavailable": _("The camera cannot be used here: paste the certificate's text."),
        "next": _("Next certificate"),
        "valid": _("Valid"),
        "invalid": _("Not valid"),
        "name": _("Name"),
        "birth_date": _("Date of birth"),
        "failed_step": _("Check that failed: %(step)s"),
        "unreachable": _("The server cannot be reached: try again."),
    }


def _page(
    found: Visitor, *, text: str = "", result: dict[str, Any] | None = None, status: int = 200
) -> Response:
    found.form_token = anonymous_form_token(found)
    if result and result.get("birth_date"):
        # A full date is written in the page's language; a year or year-month as it is.
        with contextlib.suppress(ValueError):
            result = result | {"birth_day": dt.date.fromisoformat(result["birth_date"])}
    config = {
        "endpoint": "/api/v1/dcc/verify",
        "language": found.language,
        "messages": _messages(found.language),
    }
    return render(
        found,
        "verify.html",
        status=status,
        here="/verify",
        text=text,
        result=result,
        config=config,
        verifier_script=SCRIPT.exists(),
    )


@router.get("/verify")
def verifier_page(request: Request) -> Response:
    return _page(visitor(request))


@router.post("/verify")
async def verify_page(request: Request) -> Response:
    found = visitor(request)
    form = await request.form()
    submitted = form.get(csrf.FIELD)
    if not anonymous_form_ok(request, submitted if isinstance(submitted, str) else None):
        raise FormTokenError()
    typed = form.get("hc1")
    text = typed.strip()[:MAX_TEXT] if isinstance(typed, str) else ""
    if not text:
        return _page(found, status=422, result={"valid": False, "failed_step": "prefix"})
    return _page(found, text=text, result=outcome(verify_here(request, text)))
