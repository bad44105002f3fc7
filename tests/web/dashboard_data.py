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
from courrier.db.schema import campaigns, job_pieces, pieces, print_jobs, slots, waves
from courrier.db.transaction import write_transaction
from courrier.ledger.pieces import move_pieces
from courrier.production.jobs import add_job as add_planned_job
from courrier.production.jobs import mark_job
from courrier.production.results import apply_results

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
    compose_job(engine, "J000001", piece_ids, wave=1, at=at)
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


def compose_job(engine: Engine, name: str, piece_ids: list[int], *, wave: int, at: dt.datetime) -> None:
    """A composed job of wave ``wave`` holding ``piece_ids``, as `courrier compose` records it (one page,
    one sheet a letter), without composing its PDF."""
    with engine.begin() as connection:
        campaign_id, wave_id, version = connection.execute(
            select(pieces.c.campaign_id, waves.c.id, campaigns.c.template_version_id)
            .join(waves, waves.c.id == pieces.c.wave_id)
            .join(campaigns, campaigns.c.id == pieces.c.campaign_id)
            .where(pieces.c.id == piece_ids[0], waves.c.number == wave)
        ).one()
        job_id = add_planned_job(
            connection,
            name=name,
            campaign_id=campaign_id,
            template_version_id=version,
            wave_id=wave_id,
            domestic=True,
            folder="jobs",
            placements=[(piece_id, "L-1234") for piece_id in piece_ids],
            now=at,
        )
        connection.execute(
            job_pieces.update().where(job_pieces.c.job_id == job_id).values(pages=1, sheets=1, country="LU")
        )
        connection.execute(
            print_jobs.update()
            .where(print_jobs.c.id == job_id)
            .values(state="composed", sheets=len(piece_ids), pages=len(piece_ids))
        )
        move_pieces(connection, piece_ids, "composed", actor="test", at=at)


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
    answers: dict[str, str] | None = None,
) -> None:
    """Book dose 1 for each code in the slot; the first ``vaccinated`` come, are checked in and get
    their dose; the others never come. ``answers``: the campaign's health questions'."""
    for number, code_id in enumerate(code_ids):
        booking, _created = book_dose(
            engine, code_id, slot_id, 1, booked_by="t", now=booked_at, answers=answers
        )
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
