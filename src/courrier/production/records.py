"""The composer's input for a print job: one record per piece, built from the database.

A record carries the person under ``person`` with the register's field names (never the national id),
and the campaign's fields beside it: the personal code printed in groups, the QR content (from
:func:`courrier.codes.store.qr_content`, the one definition), the letter date and the validity. The code
is the one stored for the piece, decrypted with the key file: a reprint carries the same code.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from courrier.campaigns.store import Campaign
from courrier.certificates.letter import certificate_fields
from courrier.certificates.pki import Signer
from courrier.checkin.certificate import current_certificates
from courrier.codes.format import format_code
from courrier.codes.keys import Keys
from courrier.codes.sealing import reveal_code
from courrier.codes.store import qr_content
from courrier.compose import PERSON_FIELDS as COMPOSER_PERSON_FIELDS
from courrier.db.schema import codes, job_pieces, persons, pieces, waves
from courrier.errors import ConfigError
from courrier.production.piece_ids import format_piece_id

# The record's person: the composer's contract, the register's field names and the internal id.
PERSON_FIELDS = COMPOSER_PERSON_FIELDS


def job_records(
    connection: Connection,
    campaign: Campaign,
    job_id: int,
    keys: Keys,
    today: dt.date,
    *,
    signer: Signer | None = None,
) -> list[dict[str, Any]]:
    """Records of the pieces of a job, in the job's (presort) order. A campaign of kind ``certificate``
    has no codes: each record carries the person's EU DCC instead (``qr`` its ``HC1:`` string, and the
    fields of :func:`courrier.certificates.letter.certificate_fields`), issued by ``signer`` from their
    latest current vaccination record, the same certificate the physician printed. A person without one
    gets no certificate fields, so the composer fails that letter and says why."""
    person_columns = [persons.c[name].label(f"person_{name}") for name in PERSON_FIELDS]
    query = (
        select(
            job_pieces.c.sequence,
            pieces.c.id.label("piece_id"),
            waves.c.send_date,
            codes.c.id.label("code_id"),
            codes.c.ciphertext,
            codes.c.valid_from,
            codes.c.valid_until,
            *person_columns,
        )
        .select_from(job_pieces)
        .join(pieces, pieces.c.id == job_pieces.c.piece_id)
        .join(persons, persons.c.id == pieces.c.person_id)
        .outerjoin(waves, waves.c.id == pieces.c.wave_id)
        .outerjoin(codes, codes.c.id == pieces.c.code_id)
        .where(job_pieces.c.job_id == job_id)
        .order_by(job_pieces.c.sequence)
    )
    records = [_record(row._mapping, campaign, keys, today) for row in connection.execute(query)]
    if campaign.kind == "certificate":
        if signer is None:
            raise ConfigError(
                f"campaign {campaign.name} posts certificates: it needs the DCC document signer",
                code="dcc_no_signer",
            )
        issued = current_certificates(connection, [r["person"]["id"] for r in records], signer)
        for record in records:
            found = issued.get(record["person"]["id"])
            if found is not None:
                record |= certificate_fields(found, record["person"]["language"])
    return records


def _record(row: Any, campaign: Campaign, keys: Keys, today: dt.date) -> dict[str, Any]:
    person = {name: row[f"person_{name}"] for name in PERSON_FIELDS}
    letter_date: dt.date = row["send_date"] or today
    record: dict[str, Any] = {
        "piece_id": str(row["piece_id"]),
        "piece_ref": format_piece_id(row["piece_id"]),  # as printed and scanned back, check digit included
        "sequence": row["sequence"],
        "person": person,
        "campaign": campaign.name,
        "letter_date": letter_date.isoformat(),
        "code": "",
        "qr": "",
        "valid_from": "",
        "valid_until": "",
    }
    if row["ciphertext"] is not None:
        code = reveal_code(keys, row["ciphertext"])
        valid_from: dt.date = row["valid_from"] or letter_date
        valid_until: dt.date | None = row["valid_until"]
        record |= {
            "code": format_code(code),
            "valid_from": valid_from.isoformat(),
            "valid_until": valid_until.isoformat() if valid_until else "",
            "qr": qr_content(
                campaign,
                code,
                keys=keys,
                code_id=row["code_id"],
                valid_from=valid_from,
                valid_until=valid_until,
            ),
        }
    return record
