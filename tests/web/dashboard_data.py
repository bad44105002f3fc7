"""A campaign that has been running for a while, made with the library's own steps: a print job marked
printed, its inserter results read (some letters damaged), posted; bookings in slots, people checked
in and vaccinated, others who did not come. The dashboards' tests and screenshots count it."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select

from courrier.booking.bookings import book_dose
from courrier.booking.confirmation import reception_payload
from courrier.checkin.desk import Scan, check_in
from courrier.checkin.vaccinations import Dose, record_vaccination
from courrier.codes.keys import Keys
from courrier.db.schema import pieces, slots
from courrier.db.transaction import write_transaction
from courrier.production.jobs import mark_job
from courrier.production.results import apply_results

from ..production.conftest import add_job

COMIRNATY = Dose("EU/1/20/1528", "ORG-100030215", "1119349007", "FK1234", 1, 2)
_nonces = itertools.count(1)


@dataclass(frozen=True)
class Activity:
    job: str
    posted: int
    damaged: int
    booked: int
    vaccinated: int


def print_and_post(engine: Engine, campaign_id: int, folder: Path, *, damaged: int, at: dt.datetime) -> str:
    """Every planned letter of the campaign in one job, printed, its results read (``damaged`` letters
    damaged, the others inserted), then posted; returns the job's name."""
    with engine.connect() as connection:
        piece_ids = list(
            connection.execute(
                select(pieces.c.id).where(pieces.c.campaign_id == campaign_id).order_by(pieces.c.id)
            ).scalars()
        )
    add_job(engine, "J000001", piece_ids)
    with write_transaction(engine) as connection:
        mark_job(connection, "J000001", "printed", actor="t", at=at)
    results = folder / "J000001.results.csv"
    lines = ["piece_id,status,time,machine"] + [
        f"{piece},{'damaged' if n < damaged else 'inserted'},2021-01-18T08:00:00,INS-1"
        for n, piece in enumerate(piece_ids)
    ]
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")
    apply_results(engine, results, actor="t", at=at)
    with write_transaction(engine) as connection:
        mark_job(connection, "J000001", "posted", actor="t", at=at)
    return "J000001"


def slots_of(engine: Engine, campaign_id: int, centre: str, day: dt.date) -> list[tuple[int, dt.datetime]]:
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    with engine.connect() as connection:
        return [
            (row.id, row.starts_at)
            for row in connection.execute(
                select(slots.c.id, slots.c.starts_at)
                .where(
                    slots.c.campaign_id == campaign_id,
                    slots.c.centre_id == centre,
                    slots.c.starts_at >= start,
                    slots.c.starts_at < start + dt.timedelta(days=1),
                )
                .order_by(slots.c.starts_at)
            )
        ]


def book_and_vaccinate(
    engine: Engine,
    keys: Keys,
    code_ids: list[int],
    slot_id: int,
    starts_at: dt.datetime,
    *,
    centre: str,
    vaccinated: int,
    booked_at: dt.datetime,
) -> None:
    """Book dose 1 for each code in the slot; the first ``vaccinated`` come, are checked in and get
    their dose; the others never come."""
    for number, code_id in enumerate(code_ids):
        booking, _created = book_dose(engine, code_id, slot_id, 1, booked_by="t", now=booked_at)
        if number >= vaccinated:
            continue
        with write_transaction(engine) as connection:
            answer = check_in(
                connection,
                keys,
                Scan(reception_payload(booking.reference), True, f"n{next(_nonces)}", "desk-1", "r1", False),
                centre_id=centre,
                at=starts_at,
                now=starts_at,
            )
            assert answer.checkin is not None, answer
            record_vaccination(
                connection,
                answer.checkin.id,
                COMIRNATY,
                centre_id=centre,
                physician="physician1",
                nonce=f"v{next(_nonces)}",
                now=starts_at + dt.timedelta(minutes=5),
            )
