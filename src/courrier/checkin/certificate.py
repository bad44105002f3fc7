"""The certificate of a vaccination record: the EU DCC of the dose the physician recorded.

It is issued from the stored record and the person's register entry, and issued again the same:
named ``vaccination:<record id>`` (see :mod:`courrier.certificates.issue`), dated when the record was
written, so a second print, a reprint by post or a re-download carries the very same ``HC1:`` string
and UVCI (the one ``courrier dcc revoke`` takes). Nothing is stored. A record corrected since has no
certificate any more (``vaccination_corrected``): its correction's is the one to print.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, exists, select

from courrier.centres.store import LOCAL
from courrier.certificates.issue import IssuedCertificate, issue_certificate
from courrier.certificates.letter import HOLDER_FIELDS, certificate_pdf
from courrier.certificates.payload import Holder, Vaccination
from courrier.certificates.pki import Signer
from courrier.checkin.vaccinations import VaccinationRecord, get_vaccination
from courrier.db.schema import persons, vaccinations
from courrier.errors import ConflictError

# The certificate's ``is``: the organisation that issues it, as the national certificates name it.
ISSUER = "Ministère de la Santé"


def vaccination_facts(record: VaccinationRecord, person: dict[str, Any], country: str) -> Vaccination:
    """What the certificate of ``record`` says: the register's names and birth date, the dose's codes,
    its local day, ``country`` (the signer's)."""
    return Vaccination(
        Holder(person["family_name"], person["given_names"], person["birth_date"].isoformat()),
        product=record.product,
        manufacturer=record.manufacturer,
        prophylaxis=record.prophylaxis,
        dose=record.dose_number,
        series=record.series_doses,
        date=record.given_at.astimezone(LOCAL).date(),
        country=country,
        issuer=ISSUER,
    )


def record_certificate(
    record: VaccinationRecord, person: dict[str, Any], signer: Signer
) -> IssuedCertificate:
    """The certificate of a current ``record`` of ``person`` (``vaccination_corrected`` otherwise)."""
    if record.superseded_by is not None:
        raise ConflictError(
            f"record {record.id} was corrected by record {record.superseded_by}: print that one's "
            "certificate",
            code="vaccination_corrected",
            superseded_by=record.superseded_by,
        )
    facts = vaccination_facts(record, person, signer.country)
    return issue_certificate(facts, signer, record.recorded_at, subject=f"vaccination:{record.id}")


def person_of(connection: Connection, person_id: int) -> dict[str, Any]:
    row = connection.execute(
        select(*(persons.c[name] for name in HOLDER_FIELDS)).where(persons.c.id == person_id)
    ).one()
    return dict(row._mapping)


def current_certificates(
    connection: Connection, person_ids: Sequence[int], signer: Signer
) -> dict[int, IssuedCertificate]:
    """Each person's certificate of their latest current dose (the highest dose number, then the latest
    record), for a certificate letter by post; a person with no vaccination record is left out."""
    if not person_ids:
        return {}
    newer = vaccinations.alias("newer")
    query = (
        select(vaccinations.c.id, vaccinations.c.person_id)
        .where(
            vaccinations.c.person_id.in_(person_ids),
            ~exists().where(newer.c.supersedes == vaccinations.c.id),
        )
        .order_by(vaccinations.c.person_id, vaccinations.c.dose_number, vaccinations.c.id)
    )
    latest = {row.person_id: row.id for row in connection.execute(query)}  # the last row wins
    people = {
        row.id: dict(row._mapping)
        for row in connection.execute(
            select(persons.c.id, *(persons.c[n] for n in HOLDER_FIELDS if n != "id")).where(
                persons.c.id.in_(list(latest))
            )
        )
    }
    return {
        person_id: record_certificate(get_vaccination(connection, record_id), people[person_id], signer)
        for person_id, record_id in latest.items()
    }


def vaccination_certificate_pdf(
    connection: Connection, record_id: int, signer: Signer, *, language: str | None = None
) -> tuple[IssuedCertificate, bytes]:
    """The certificate of record ``record_id`` and its one-page PDF, in ``language`` or else the
    person's register language."""
    record = get_vaccination(connection, record_id)
    person = person_of(connection, record.person_id)
    issued = record_certificate(record, person, signer)
    return issued, certificate_pdf(issued, person | ({"language": language} if language else {}))
