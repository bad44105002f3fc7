"""The confirmation letter of a booking: one A4 PDF page from our own composer, in the person's language.

It gives the booking's reference, dose, day and local time, the centre's name and address, what to bring
and how to move or cancel, with the person's address in the window (the helpline may post it). The
template is the folder ``confirmation_template/`` (fr, de, en, pt, lb), checked like any letter template.

The QR is what the centre's reception desk scans. It holds no personal data, only the booking's
reference (8 characters of the code alphabet, unique, not derived from the person or the code)::

    RDV1:<reference>            e.g. RDV1:7KQ3MZ8P

``RDV1`` names the payload and its version; :func:`read_reception_payload` is the desk's reader. The
PDF's bytes depend only on the booking and the person's name, address and language.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from courrier.booking.bookings import Booking, get_booking
from courrier.centres.store import LOCAL
from courrier.compose import PERSON_FIELDS, Template, compose_job, load_template
from courrier.db.schema import persons
from courrier.errors import CodeError, CompositionError, ConflictError

TEMPLATE = Path(__file__).parent / "confirmation_template"
RECEPTION_PREFIX = "RDV1:"


def reception_payload(reference: str) -> str:
    """The text of the confirmation's QR code for a booking ``reference``."""
    return RECEPTION_PREFIX + reference


def read_reception_payload(text: str) -> str:
    """The booking reference a scanned confirmation QR holds; ``bad_reception_qr`` if it is not one."""
    reference = text.strip()[len(RECEPTION_PREFIX) :]
    if (
        not text.strip().startswith(RECEPTION_PREFIX)
        or not 1 <= len(reference) <= 16
        or not reference.isalnum()
    ):
        raise CodeError("this is not the QR code of a booking confirmation", code="bad_reception_qr")
    return reference.upper()


@cache
def confirmation_template() -> Template:
    """The confirmation template, loaded and checked once per process."""
    return load_template(TEMPLATE)


def confirmation_record(booking: Booking, person: dict[str, Any]) -> dict[str, Any]:
    """The composer's record for ``booking`` and its ``person`` (register fields, ``language`` the one to
    write in)."""
    local = booking.starts_at.astimezone(LOCAL)
    return {
        "piece_id": booking.reference,
        "person": person,
        "qr": reception_payload(booking.reference),
        "reference": booking.reference,
        "dose": booking.dose,
        "day": local.date(),
        "time": local.strftime("%H:%M"),
        "centre_name": booking.centre_name,
        "centre_address": booking.centre_address,
    }


def compose_confirmation(booking: Booking, person: dict[str, Any]) -> bytes:
    """The confirmation PDF of ``booking`` for ``person`` (no date in the file but the booking's)."""
    out = io.BytesIO()
    result = compose_job(
        confirmation_template(),
        [confirmation_record(booking, person)],
        out,
        job_id=f"confirmation-{booking.reference}",
    )
    failed = result.failures
    if failed:
        # A name too long for the window, say: the composer's own refusal, passed on.
        first = failed[0]
        code = first.error_code
        raise CompositionError(
            f"the confirmation of booking {booking.reference} cannot be composed: {first.error_message}",
            code=code,
            field=first.error_field,
        )
    return out.getvalue()


def confirmation_pdf(
    connection: Connection, code_id: int, booking_id: int, *, language: str | None = None
) -> tuple[Booking, bytes]:
    """The booking (of this code; ``unknown_booking`` otherwise) and its confirmation PDF, in
    ``language`` or else the person's register language. A cancelled booking has none
    (``booking_cancelled``)."""
    booking = get_booking(connection, code_id, booking_id)
    if booking.state != "active":
        raise ConflictError("this booking is cancelled", code="booking_cancelled")
    row = connection.execute(
        select(*(persons.c[name] for name in PERSON_FIELDS)).where(persons.c.id == booking.person_id)
    ).one()
    person = dict(row._mapping)
    if language:
        person["language"] = language
    return booking, compose_confirmation(booking, person)
