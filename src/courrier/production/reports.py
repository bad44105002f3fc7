"""The operator's reports: the posting statement for the post office and the morning status view."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, or_, select

from courrier.country import HOME_COUNTRY
from courrier.db.schema import events, job_pieces, pieces, print_jobs, waves
from courrier.production.jobs import is_current_job, list_jobs
from courrier.result import Result


@dataclass(frozen=True)
class PostingStatement(Result):
    """``wave`` (a number, "reissues", or None for the whole campaign); per job and in ``total``:
    ``pieces``, by ``destination`` (domestic / each country) and by ``sheets`` per envelope."""

    wave: int | str | None
    jobs: list[dict[str, Any]]
    total: dict[str, Any]


@dataclass(frozen=True)
class CampaignStatus(Result):
    """Pieces per wave ("reissues" for those outside the waves) and state, the jobs awaiting each next
    step, and the failed letters."""

    pieces: dict[str, dict[str, int]]
    jobs_awaiting: dict[str, list[str]]
    failures: list[dict[str, Any]]


def posting_statement(
    connection: Connection, campaign_id: int, wave_number: int | None, *, reissues: bool = False
) -> PostingStatement:
    """Per job and in total: pieces by destination (domestic / each country) and by sheets per envelope,
    for one wave, the re-issues (``reissues``: the jobs outside the waves), or the whole campaign.

    It counts what was printed and handed to the post, never today's register: each letter of a print
    file once, in its current job (a reprint replaces the letter it reprints), by the country it was
    addressed to when it was composed (``job_pieces.country``), if it is inserted or was posted (a
    posted letter returned or re-issued later was still posted). Withdrawn, failed and lost letters are
    not in it.
    """
    posted = (
        select(events.c.id)
        .where(events.c.piece_id == job_pieces.c.piece_id, events.c.type == "piece.posted")
        .exists()
    )
    query = (
        select(print_jobs.c.name, job_pieces.c.country, job_pieces.c.sheets, func.count())
        .select_from(job_pieces)
        .join(print_jobs, print_jobs.c.id == job_pieces.c.job_id)
        .outerjoin(waves, waves.c.id == print_jobs.c.wave_id)
        .join(pieces, pieces.c.id == job_pieces.c.piece_id)
        .where(print_jobs.c.campaign_id == campaign_id)
        .where(or_(pieces.c.state == "inserted", posted), job_pieces.c.error_code.is_(None))
        .where(is_current_job(job_pieces))
        .group_by(print_jobs.c.name, job_pieces.c.country, job_pieces.c.sheets)
        .order_by(print_jobs.c.name)
    )
    if reissues:
        query = query.where(print_jobs.c.wave_id.is_(None))
    elif wave_number is not None:
        query = query.where(waves.c.number == wave_number)
    per_job: dict[str, dict[str, Counter[str]]] = defaultdict(
        lambda: {"destination": Counter(), "sheets": Counter()}
    )
    for job, country, sheets, count in connection.execute(query):
        destination = "domestic" if country == HOME_COUNTRY else country
        per_job[job]["destination"][destination] += count
        per_job[job]["sheets"][str(sheets)] += count
    total = {"destination": Counter[str](), "sheets": Counter[str]()}
    for counts in per_job.values():
        for key in total:
            total[key].update(counts[key])
    return PostingStatement(
        wave="reissues" if reissues else wave_number,
        jobs=[
            {"job": job, "pieces": sum(c["destination"].values()), **{k: dict(v) for k, v in c.items()}}
            for job, c in per_job.items()
        ],
        total={"pieces": sum(total["destination"].values()), **{k: dict(v) for k, v in total.items()}},
    )


def campaign_status(connection: Connection, campaign_id: int) -> CampaignStatus:
    """Pieces per state and wave, jobs awaiting the next step, and failed letters."""
    by_wave: dict[str, dict[str, int]] = defaultdict(dict)
    query = (
        select(waves.c.number, pieces.c.state, func.count())
        .select_from(pieces)
        .outerjoin(waves, waves.c.id == pieces.c.wave_id)
        .where(pieces.c.campaign_id == campaign_id)
        .group_by(waves.c.number, pieces.c.state)
    )
    for wave, state, count in connection.execute(query):
        # Keys a program can use: the wave's number, or "reissues" for the pieces outside the waves.
        by_wave["reissues" if wave is None else str(wave)][state] = int(count)
    awaiting: dict[str, list[str]] = {
        "composing": [],  # planned, e.g. a compose or a reprint interrupted: run it again
        "printing": [],
        "insertion": [],
        "reconciliation": [],
        "posting": [],
    }
    jobs = list_jobs(connection, campaign_id=campaign_id)
    reprinted = {job.reprint_of for job in jobs if job.reprint_of}
    for job in jobs:
        if job.state == "planned":
            awaiting["composing"].append(job.name)
        elif job.state == "composed":
            awaiting["printing"].append(job.name)
        elif job.state == "printed":
            awaiting["insertion"].append(job.name)
        elif job.state == "inserted":
            if _not_inserted(connection, job.id) and job.name not in reprinted:
                awaiting["reconciliation"].append(job.name)
            else:
                awaiting["posting"].append(job.name)
    failures = [
        {"piece_id": piece_id, "job": job, "error": code, "message": message}
        for piece_id, job, code, message in connection.execute(
            select(
                job_pieces.c.piece_id, print_jobs.c.name, job_pieces.c.error_code, job_pieces.c.error_message
            )
            .join(print_jobs, print_jobs.c.id == job_pieces.c.job_id)
            .where(
                print_jobs.c.campaign_id == campaign_id,
                job_pieces.c.error_code.is_not(None),
                # Left out because it is no longer to be sent: not a failure.
                job_pieces.c.error_code.not_in(("withdrawn", "reissued")),
            )
            .order_by(job_pieces.c.piece_id)
        )
    ]
    return CampaignStatus(dict(by_wave), awaiting, failures)


def _not_inserted(connection: Connection, job_id: int) -> int:
    query = (
        select(func.count())
        .select_from(job_pieces)
        .join(pieces, pieces.c.id == job_pieces.c.piece_id)
        .where(
            job_pieces.c.job_id == job_id, pieces.c.state.in_(("printed", "diverted", "damaged", "missing"))
        )
    )
    return int(connection.execute(query).scalar_one())
