"""Print jobs in the database: naming, listing, and marking them printed or posted.

A piece can be in several jobs (its original job and reprints); its *current* job is the latest one it
was put in. Marking a job changes only the pieces whose current job it is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, select
from sqlalchemy.exc import IntegrityError

from courrier.db.bulk import bulk_insert
from courrier.db.schema import job_pieces, pieces, print_jobs, waves
from courrier.errors import ConflictError, NotFoundError
from courrier.ledger.pieces import move_pieces
from courrier.result import Result

JOB_STATES = ("planned", "composed", "printed", "inserted", "posted")
# What an operator may mark by hand, and the job state it requires.
MARKS = {"printed": "composed", "posted": "inserted"}
_REPRINT = re.compile(r"(J\d{6})(?:\.R(\d+))?")


def job_name(number: int) -> str:
    return f"J{number:06d}"


def next_job_number(connection: Connection) -> int:
    """Job numbers run across all campaigns, so a job name alone identifies a print file."""
    names = connection.execute(select(print_jobs.c.name).where(print_jobs.c.reprint_of.is_(None))).scalars()
    numbers = [int(name[1:]) for name in names]
    return max(numbers, default=0) + 1


def reprint_name(connection: Connection, source_name: str) -> str:
    """``J000123.R1`` for the first reprint of J000123 (and of its reprints), ``.R2`` for the next."""
    match = _REPRINT.fullmatch(source_name)
    assert match is not None, source_name
    root = match.group(1)
    names = connection.execute(
        select(print_jobs.c.name).where(print_jobs.c.name.like(f"{root}.R%"))
    ).scalars()
    done = [int(m.group(2)) for name in names if (m := _REPRINT.fullmatch(name)) and m.group(2)]
    return f"{root}.R{max(done, default=0) + 1}"


@dataclass(frozen=True)
class Job(Result):
    id: int
    name: str
    campaign_id: int
    wave_id: int | None
    wave_number: int | None
    state: str
    pieces: int
    sheets: int
    failed: int
    domestic: bool
    reprint_of: str | None
    folder: str
    pdf_sha256: str | None


def add_job(
    connection: Connection,
    *,
    name: str,
    campaign_id: int,
    template_version_id: int,
    wave_id: int | None,
    domestic: bool,
    folder: str,
    placements: list[tuple[int, str]],
    now: dt.datetime,
    reprint_of: int | None = None,
) -> int:
    """A planned job holding ``placements`` ((piece id, presort bundle), in print order); its id.

    Two runs that number jobs at once may pick the same name; UNIQUE print_jobs.name lets one have it
    and the other gets ``job_name_taken`` (run it again: it numbers after the winner).
    """
    try:
        # A savepoint, so that the transaction can still tell a taken name from another violation.
        with connection.begin_nested():
            result = connection.execute(
                print_jobs.insert().values(
                    name=name,
                    campaign_id=campaign_id,
                    wave_id=wave_id,
                    reprint_of=reprint_of,
                    template_version_id=template_version_id,
                    domestic=domestic,
                    state="planned",
                    pieces=len(placements),
                    sheets=0,
                    pages=0,
                    failed=0,
                    folder=folder,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError as error:
        if _job_exists(connection, name):
            raise ConflictError(
                f"job {name} was created by another run at the same time: run again",
                code="job_name_taken",
                job=name,
            ) from error
        raise
    assert result.inserted_primary_key is not None
    job_id = int(result.inserted_primary_key[0])
    bulk_insert(
        connection,
        job_pieces,
        [
            {"piece_id": piece_id, "sequence": sequence, "bundle": bundle}
            for sequence, (piece_id, bundle) in enumerate(placements, start=1)
        ],
        constants={"job_id": job_id},
    )
    return job_id


def _job_exists(connection: Connection, name: str) -> bool:
    return connection.execute(select(print_jobs.c.id).where(print_jobs.c.name == name)).first() is not None


def get_job(connection: Connection, name: str) -> Job:
    jobs = list_jobs(connection, name=name)
    if not jobs:
        raise NotFoundError(f"no print job {name!r}", code="job_not_found")
    return jobs[0]


def list_jobs(
    connection: Connection, *, campaign_id: int | None = None, name: str | None = None
) -> list[Job]:
    source = print_jobs.alias("source")
    query = (
        select(print_jobs, waves.c.number.label("wave_number"), source.c.name.label("source_name"))
        .outerjoin(waves, waves.c.id == print_jobs.c.wave_id)
        .outerjoin(source, source.c.id == print_jobs.c.reprint_of)
        .order_by(print_jobs.c.name)
    )
    if campaign_id is not None:
        query = query.where(print_jobs.c.campaign_id == campaign_id)
    if name is not None:
        query = query.where(print_jobs.c.name == name)
    return [
        Job(
            id=row.id,
            name=row.name,
            campaign_id=row.campaign_id,
            wave_id=row.wave_id,
            wave_number=row.wave_number,
            state=row.state,
            pieces=row.pieces,
            sheets=row.sheets,
            failed=row.failed,
            domestic=row.domestic,
            reprint_of=row.source_name,
            folder=row.folder,
            pdf_sha256=row.pdf_sha256,
        )
        for row in connection.execute(query)
    ]


def is_current_job(placement: Any) -> ColumnElement[bool]:
    """The rule, written once: a row of ``job_pieces`` (or an alias of it) is its piece's current
    placement when no later job holds the piece (a reprint job comes after the job it reprints)."""
    later = job_pieces.alias("later")
    return ~(
        select(later.c.id)
        .where(and_(later.c.piece_id == placement.c.piece_id, later.c.job_id > placement.c.job_id))
        .exists()
    )


def current_job_ids(connection: Connection, piece_ids: list[int]) -> dict[int, int]:
    """The current (latest) job of each piece that is in one."""
    query = select(job_pieces.c.piece_id, job_pieces.c.job_id).where(
        job_pieces.c.piece_id.in_(piece_ids), is_current_job(job_pieces)
    )
    return {int(piece_id): int(job_id) for piece_id, job_id in connection.execute(query)}


def current_pieces(connection: Connection, job_id: int, *, composed_only: bool = True) -> list[int]:
    """Pieces whose current job is ``job_id`` (by default only those the PDF holds)."""
    query = (
        select(job_pieces.c.piece_id)
        .where(job_pieces.c.job_id == job_id, is_current_job(job_pieces))
        .order_by(job_pieces.c.sequence)
    )
    if composed_only:
        query = query.where(job_pieces.c.error_code.is_(None))
    return [int(piece_id) for piece_id in connection.execute(query).scalars()]


@dataclass(frozen=True)
class MarkedJob(Result):
    job: str
    state: str
    pieces: int  # the pieces that followed


def mark_job(connection: Connection, name: str, state: str, *, actor: str, at: dt.datetime) -> MarkedJob:
    """Mark a job printed (from composed) or posted (from inserted); its pieces follow."""
    if state not in MARKS:
        raise ConflictError(f"a job can be marked {' or '.join(MARKS)}, not {state!r}", code="bad_job_state")
    job = get_job(connection, name)
    if job.state != MARKS[state]:
        raise ConflictError(
            f"job {name} is {job.state}; it can be marked {state} only when {MARKS[state]}", code="job_state"
        )
    piece_from = {"printed": "composed", "posted": "inserted"}[state]
    candidates = current_pieces(connection, job.id)
    in_state = [
        piece_id
        for piece_id, piece_state in connection.execute(
            select(pieces.c.id, pieces.c.state).where(pieces.c.id.in_(candidates))
        )
        if piece_state == piece_from
    ]
    move_pieces(connection, in_state, state, actor=actor, at=at, reason=f"job {name} marked {state}")
    connection.execute(
        print_jobs.update().where(print_jobs.c.id == job.id).values(state=state, updated_at=at)
    )
    return MarkedJob(name, state, len(in_state))
