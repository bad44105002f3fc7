"""The certificate on paper: one A4 page from our composer, printed at the physician's desk or posted.

The page shows what the certificate's signed payload says, read back from it (holder, birth date,
vaccine, dose, date, country, issuer, expiry, UVCI) and the QR, which *is* the certificate (the
``HC1:`` string, alphanumeric mode, level Q, 45 mm plus its quiet zone). Codes are shown by their
value sets' names. The template is the folder ``certificate_template/`` (fr, de, en). A posted
certificate carries the piece's reference in its footer, never a personal code.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
from pathlib import Path
from typing import Any

from courrier.certificates.issue import IssuedCertificate
from courrier.certificates.payload import DATA
from courrier.compose import PERSON_FIELDS, Template, compose_job, load_template
from courrier.errors import CompositionError, InputFileError

TEMPLATE = Path(__file__).parent / "certificate_template"
# The register fields a certificate and its letter need: the composer's person, and the birth date.
HOLDER_FIELDS = (*PERSON_FIELDS, "birth_date")


@functools.cache
def certificate_template() -> Template:
    """The certificate template, loaded and checked once per process."""
    return load_template(TEMPLATE)


@functools.cache
def _names(value_set: str) -> dict[str, str]:
    document = json.loads((DATA / "valuesets" / f"{value_set}.json").read_text(encoding="utf-8"))
    return {code: str(entry["display"]) for code, entry in document["valueSetValues"].items()}


def certificate_fields(issued: IssuedCertificate) -> dict[str, Any]:
    """The template's fields of a vaccination certificate, from its payload (``qr`` the ``HC1:``)."""
    entries = issued.payload.get("v")
    if not entries:
        raise InputFileError("only vaccination certificates have a printed form", code="dcc_invalid_record")
    entry, names = entries[0], issued.payload["nam"]

    def shown(value_set: str, code: str) -> str:
        return _names(value_set).get(code, code)

    return {
        "qr": issued.hc1,
        "uvci": issued.uvci,
        "holder_name": " ".join(part for part in (names.get("gn"), names.get("fn")) if part),
        "birth_date": issued.payload["dob"],
        "disease": shown("disease-agent-targeted", entry["tg"]),
        "prophylaxis": shown("vaccine-prophylaxis", entry["vp"]),
        "product": shown("vaccine-medicinal-product", entry["mp"]),
        "manufacturer": shown("vaccine-mah-manf", entry["ma"]),
        "dose": f"{entry['dn']}/{entry['sd']}",
        "vaccinated_on": entry["dt"],
        "vaccination_country": shown("country-2-codes", entry["co"]),
        "issuer": entry["is"],
        "valid_until": issued.expires_at.astimezone(dt.UTC).date().isoformat(),
    }


def certificate_pdf(issued: IssuedCertificate, person: dict[str, Any]) -> bytes:
    """The one-page certificate of ``issued`` for ``person`` (register fields; ``language`` the one to
    write in). Refuses what the composer refuses (a name too long for its box, say)."""
    out = io.BytesIO()
    record = {"piece_id": issued.uvci, "piece_ref": "", "person": person, **certificate_fields(issued)}
    result = compose_job(certificate_template(), [record], out, job_id="certificate")
    if result.failures:
        first = result.failures[0]
        code = first.error_code  # the composer's own refusal, passed on
        raise CompositionError(
            f"the certificate {issued.uvci} cannot be composed: {first.error_message}",
            code=code,
            field=first.error_field,
        )
    return out.getvalue()
