"""What ``courrier compose`` may compose, decided by the pieces' states and never by the files.

- A wave is cut into jobs once (:func:`plan_wave`): its ``planned`` pieces, presorted. A re-run finds
  the same jobs with the same pieces.
- ``--retry-failed`` (:func:`plan_retry`) puts the wave's ``failed`` pieces whose failure is on record in
  a composed job into new jobs, once the cause (a template typo, a missing code) is fixed. Retrying is
  explicit rather than the default so that a plain re-run after an interruption makes exactly the
  files an uninterrupted run makes, and a letter that fails for good does not make a new job each run.
- ``--reissues`` (:func:`plan_reissues`) puts the campaign's planned re-issue pieces (they belong to no
  wave) into new jobs.
- The campaign's print files go to one absolute folder, fixed when it is first composed
  (:func:`campaign_folder`), so a command run from another directory finds and keeps them.
- A piece without a code is never composed: the wave is refused with the command that issues them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, func, select

from courrier.campaigns.store import Campaign
from courrier.db.schema import campaigns, job_pieces, persons, pieces, print_jobs, waves
from courrier.errors import ConflictError, InputFileError, NotFoundError
from courrier.production.jobs import add_job, job_name, next_job_number
from courrier.production.presort import SortablePiece, plan_jobs

DEFAULT_OUT = Path("print-jobs")


def campaign_folder(connection: Connection, campaign: Campaign, out: Path | None) -> Path:
    """The absolute folder for the jobs planned now: ``out/CAMPAIGN`` when given, else the campaign's
    folder, fixed (``./print-jobs/CAMPAIGN`` made absolute) at its first compose."""
    if out is None and campaign.output_folder:
        folder = Path(campaign.output_folder)
    else:
        folder = ((out or DEFAULT_OUT) / campaign.name).absolute()
    if not campaign.output_folder:
        connection.execute(
            campaigns.update().where(campaigns.c.id == campaign.id).values(output_folder=str(folder))
        )
    make_folder(folder)
    return folder


def make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputFileError(
            f"cannot create the output folder {folder}: {error.strerror}", code="unwritable_folder"
        ) from error


def wave_id(connection: Connection, campaign: Campaign, number: int) -> int:
    found = connection.execute(
        select(waves.c.id).where(waves.c.campaign_id == campaign.id, waves.c.number == number)
    ).scalar()
    if found is None:
        raise NotFoundError(
            f"campaign {campaign.name} has no wave {number}: see `courrier campaign plan {campaign.name}`",
            code="unknown_wave",
        )
    return int(found)


def require_codes(connection: Connection, campaign: Campaign, wave: tuple[int, int] | None) -> None:
    """Refuse (``codes_missing``) when a piece to compose has no code yet, naming the command. A
    certificate campaign's letters carry no code."""
    if campaign.kind == "certificate":
        return
    query = (
        select(func.count())
        .select_from(pieces)
        .where(
            pieces.c.campaign_id == campaign.id,
            pieces.c.code_id.is_(None),
            pieces.c.state.in_(("planned", "failed")),
        )
    )
    query = query.where(pieces.c.wave_id == wave[0]) if wave else query.where(pieces.c.wave_id.is_(None))
    missing = int(connection.execute(query).scalar_one())
    if missing:
        where = f"of wave {wave[1]}" if wave else "re-issued"
        command = f"courrier codes issue {campaign.name}" + (f" --wave {wave[1]}" if wave else "")
        raise ConflictError(
            f"{missing} pieces {where} have no code yet: run `{command}` first", code="codes_missing"
        )


def plan_wave(
    connection: Connection,
    campaign: Campaign,
    wave: int,
    folder: Path,
    job_size_sheets: int,
    now: dt.datetime,
) -> None:
    """Cut the wave's planned pieces into jobs, once: a later run keeps the assignment."""
    planned_before = connection.execute(
        select(print_jobs.c.id).where(print_jobs.c.wave_id == wave, print_jobs.c.reprint_of.is_(None))
    ).first()
    if planned_before:
        return
    placed = _plan(connection, campaign, wave, folder, job_size_sheets, now, _pieces_in(wave, ("planned",)))
    if not placed:
        raise ConflictError("the wave has no planned pieces to compose", code="nothing_to_compose")


def plan_retry(
    connection: Connection,
    campaign: Campaign,
    wave: int,
    folder: Path,
    job_size_sheets: int,
    now: dt.datetime,
) -> int:
    """New jobs for the wave's failed pieces that no pending job holds yet; the number of pieces."""
    return _plan(connection, campaign, wave, folder, job_size_sheets, now, _pieces_in(wave, ("failed",)))


def plan_reissues(
    connection: Connection, campaign: Campaign, folder: Path, job_size_sheets: int, now: dt.datetime
) -> int:
    """New jobs for the campaign's planned re-issue pieces not in a job yet; the number of pieces."""
    query = _sortable_query().where(
        pieces.c.campaign_id == campaign.id, pieces.c.wave_id.is_(None), pieces.c.state == "planned"
    )
    return _plan(connection, campaign, None, folder, job_size_sheets, now, _not_pending(query))


def _pieces_in(wave: int, states: tuple[str, ...]) -> Any:
    return _not_pending(_sortable_query().where(pieces.c.wave_id == wave, pieces.c.state.in_(states)))


def _not_pending(query: Any) -> Any:
    """Leave out the pieces a planned (not yet composed) job already holds: an interrupted run's."""
    pending = (
        select(job_pieces.c.id)
        .join(print_jobs, print_jobs.c.id == job_pieces.c.job_id)
        .where(and_(job_pieces.c.piece_id == pieces.c.id, print_jobs.c.state == "planned"))
    )
    return query.where(~pending.exists())


def _sortable_query() -> Any:
    return select(
        pieces.c.id,
        persons.c.country,
        persons.c.postcode,
        persons.c.locality,
        persons.c.street,
        persons.c.house_number,
        persons.c.family_name,
        persons.c.given_names,
    ).join(persons, persons.c.id == pieces.c.person_id)


def _plan(
    connection: Connection,
    campaign: Campaign,
    wave: int | None,
    folder: Path,
    job_size_sheets: int,
    now: dt.datetime,
    query: Any,
) -> int:
    # A wave may hold a million pieces: rows are streamed, and the strings that repeat (countries,
    # postcodes, localities, streets, house numbers) are kept once each (planning a million: 895 -> 536 MB).
    shared: dict[str, str] = {}
    one = shared.setdefault
    sortable = [
        SortablePiece(
            row.id,
            1,
            one(row.country, row.country),
            one(row.postcode, row.postcode),
            one(row.locality, row.locality),
            one(row.street, row.street),
            one(row.house_number, row.house_number),
            row.family_name,
            row.given_names,
        )
        for row in connection.execute(query.execution_options(yield_per=10_000))
    ]
    if not sortable:
        return 0
    number = next_job_number(connection)
    for plan in plan_jobs(sortable, job_size_sheets, first_number=number):
        add_job(
            connection,
            name=job_name(plan.number),
            campaign_id=campaign.id,
            template_version_id=campaign.template_version_id,
            wave_id=wave,
            domestic=plan.domestic,
            folder=str(folder),
            placements=[(piece.piece_id, piece.bundle) for piece in plan.pieces],
            now=now,
        )
    return len(sortable)
