"""``courrier compose``: a wave's pieces into presorted print jobs, composed on Dask.

1. **Plan** (one transaction, once per wave): the wave's planned pieces are presorted and cut into jobs
   (:mod:`courrier.production.presort`); the jobs and their piece order are stored before anything is
   composed, so a re-run finds the same assignment.
2. **Compose**: each job not yet composed (or whose PDF is missing or differs from its recorded sha256)
   is one Dask task: records in, PDF bytes and per-letter facts out (the composer is pure and knows no
   database). The client writes the job's files atomically, then in one transaction records pages,
   sheets and failures and moves the pieces to ``composed`` (or ``failed``).

Files of a job, in ``OUT/<campaign>/``: ``JOB.pdf``, ``JOB.manifest.csv``, ``JOB.ticket.json``,
``JOB.inserter.csv`` (see :mod:`courrier.production.job_files`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, func, select

from courrier.campaigns.store import Campaign, get_campaign
from courrier.codes.keys import Keys
from courrier.db import write_transaction
from courrier.db.bulk import bulk_execute
from courrier.db.schema import job_pieces, persons, pieces, print_jobs, waves
from courrier.errors import ConflictError, NotFoundError
from courrier.ledger.pieces import move_pieces
from courrier.production.inserter import sheet_mark
from courrier.production.job_files import PieceFacts, write_job_files
from courrier.production.jobs import add_job, job_name, next_job_number
from courrier.production.presort import DEFAULT_JOB_SIZE_SHEETS, SortablePiece, plan_jobs
from courrier.production.records import job_records


@dataclass
class ComposeSummary:
    campaign: str
    wave: int
    folder: Path
    jobs: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    letters: int = 0
    sheets: int = 0
    composer_cpu_s: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign,
            "wave": self.wave,
            "folder": str(self.folder),
            "jobs_composed": self.jobs,
            "jobs_kept": self.kept,
            "letters": self.letters,
            "sheets": self.sheets,
            "failures": self.failures,
        }


@dataclass(frozen=True)
class JobOutput:
    """What a Dask task sends back: the PDF and, per piece, pages, sheets or why it failed."""

    job: str
    pdf: bytes
    pieces: list[PieceFacts]
    cpu_s: float = 0.0  # the worker's CPU time for this job


def compose_wave(
    engine: Engine,
    campaign_name: str,
    wave_number: int,
    *,
    out: Path,
    keys: Keys,
    actor: str,
    now: dt.datetime,
    job_size_sheets: int = DEFAULT_JOB_SIZE_SHEETS,
    scheduler: str | None = None,
    workers: int | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_job_done: Callable[[str, int], None] | None = None,
) -> ComposeSummary:
    """``on_start(jobs, letters)`` is told what is to be made, once; ``on_job_done(job, letters)`` after
    each job, for a progress bar."""
    with write_transaction(engine) as connection:
        campaign = get_campaign(connection, campaign_name)
        wave_id = _wave_id(connection, campaign.id, wave_number)
        _plan_wave(connection, campaign, wave_id, job_size_sheets, now)
    jobs = _jobs_of_wave(engine, wave_id)
    return compose_jobs(
        engine,
        campaign,
        jobs,
        wave_number,
        out=out,
        keys=keys,
        actor=actor,
        now=now,
        scheduler=scheduler,
        workers=workers,
        on_start=on_start,
        on_job_done=on_job_done,
    )


def compose_jobs(
    engine: Engine,
    campaign: Campaign,
    job_ids: list[int],
    wave_number: int,
    *,
    out: Path,
    keys: Keys,
    actor: str,
    now: dt.datetime,
    scheduler: str | None = None,
    workers: int | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_job_done: Callable[[str, int], None] | None = None,
) -> ComposeSummary:
    """Compose the given jobs that are not composed yet; keep those whose files are intact."""
    folder = out / campaign.name
    folder.mkdir(parents=True, exist_ok=True)
    summary = ComposeSummary(campaign.name, wave_number, folder)
    todo: list[tuple[int, str]] = []
    with engine.connect() as connection:
        query = select(print_jobs.c.id, print_jobs.c.name, print_jobs.c.state, print_jobs.c.pdf_sha256)
        found = {row.id: row for row in connection.execute(query.where(print_jobs.c.id.in_(job_ids)))}
    for job_id in job_ids:
        _, name, state, sha256 = found[job_id]
        if state != "planned" and _intact(folder / f"{name}.pdf", sha256):
            summary.kept.append(name)
        else:
            todo.append((job_id, name))
    if not todo:
        return summary
    if on_start:
        on_start(len(todo), _piece_count(engine, [job_id for job_id, _ in todo]))
    with _dask_client(scheduler, workers) as client:
        from distributed import as_completed

        # Records are built job by job and only a few jobs are in flight: memory stays flat however
        # large the wave (a million records at once would not fit).
        in_flight = max(2, 2 * len(client.scheduler_info()["workers"]))
        pending = iter(todo)
        records_of: dict[str, tuple[int, list[dict[str, Any]]]] = {}

        def submit_next() -> Any:
            job = next(pending, None)
            if job is None:
                return None
            job_id, name = job
            with engine.connect() as connection:
                records = job_records(connection, campaign, job_id, keys, now.date())
            records_of[name] = (job_id, records)
            return client.submit(
                compose_task, campaign.template_path, name, records, key=f"compose-{name}-{campaign.id}"
            )

        queue = as_completed([future for future in (submit_next() for _ in range(in_flight)) if future])  # type: ignore[no-untyped-call]
        for future in queue:
            output: JobOutput = future.result()
            job_id, records = records_of.pop(output.job)
            following = submit_next()
            if following is not None:
                queue.add(following)  # type: ignore[no-untyped-call]
            _finish_job(engine, campaign, job_id, output, records, folder, wave_number, actor, now, summary)
            if on_job_done:
                on_job_done(output.job, len(records))
    summary.jobs.sort()
    return summary


@contextmanager
def _dask_client(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    count = workers or os.cpu_count() or 1
    # One single-threaded worker process per core: composing is CPU-bound Python. The scheduler, the
    # workers, their nannies and the dashboard listen on 127.0.0.1 only, on free ports: Dask's HTTP
    # server has no authentication, and the workers hold records with names and addresses.
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=count,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )
    with cluster, Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


@lru_cache(maxsize=4)
def _template(path: str) -> Any:
    from courrier.compose import load_template

    return load_template(Path(path))


class RecordBatch:
    """A job's records, opaque to Dask: it would otherwise walk every nested dict looking for tasks."""

    __slots__ = ("records",)

    def __init__(self, records: list[dict[str, Any]]) -> None:
        self.records = records

    def __getstate__(self) -> list[dict[str, Any]]:
        return self.records

    def __setstate__(self, records: list[dict[str, Any]]) -> None:
        self.records = records


def compose_task(template_path: str, job: str, batch: RecordBatch | list[dict[str, Any]]) -> JobOutput:
    """Runs on a Dask worker: pure, records in, PDF bytes out."""
    # Dask's transport may hand the worker the batch's state (the plain list) rather than the object.
    records = batch.records if isinstance(batch, RecordBatch) else batch
    started = time.process_time()
    from courrier.compose import compose_job

    buffer = io.BytesIO()
    result = compose_job(
        _template(template_path), records, buffer, job_id=job, sheet_marks=partial(_mark, job)
    )
    facts = [
        PieceFacts(
            piece_id=int(piece.piece_id),
            ok=piece.ok,
            pages=piece.pages,
            sheets=piece.sheets,
            error_code=piece.error_code,
            error_message=piece.error_message,
        )
        for piece in result.pieces
    ]
    return JobOutput(job, buffer.getvalue(), facts, time.process_time() - started)


def _mark(job: str, _index: int, record: Any, sheet: int, sheets: int) -> str:
    return sheet_mark(job, int(record["sequence"]), sheet, sheets)


def _intact(path: Path, sha256: str | None) -> bool:
    if sha256 is None or not path.exists():
        return False
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest() == sha256


def _wave_id(connection: Any, campaign_id: int, number: int) -> int:
    found = connection.execute(
        select(waves.c.id).where(waves.c.campaign_id == campaign_id, waves.c.number == number)
    ).scalar()
    if found is None:
        raise NotFoundError(f"the campaign has no wave {number}: plan it first", code="unknown_wave")
    return int(found)


def _plan_wave(
    connection: Any, campaign: Campaign, wave_id: int, job_size_sheets: int, now: dt.datetime
) -> None:
    if connection.execute(
        select(print_jobs.c.id).where(print_jobs.c.wave_id == wave_id, print_jobs.c.reprint_of.is_(None))
    ).first():
        return  # planned by an earlier run: keep its assignment
    query = (
        select(
            pieces.c.id,
            persons.c.country,
            persons.c.postcode,
            persons.c.locality,
            persons.c.street,
            persons.c.house_number,
            persons.c.family_name,
            persons.c.given_names,
        )
        .join(persons, persons.c.id == pieces.c.person_id)
        .where(pieces.c.wave_id == wave_id, pieces.c.state == "planned")
    )
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
        raise ConflictError("the wave has no planned pieces to compose", code="nothing_to_compose")
    number = next_job_number(connection)
    for plan in plan_jobs(sortable, job_size_sheets, first_number=number):
        add_job(
            connection,
            name=job_name(plan.number),
            campaign_id=campaign.id,
            template_version_id=campaign.template_version_id,
            wave_id=wave_id,
            domestic=plan.domestic,
            folder=campaign.name,
            placements=[(piece.piece_id, piece.bundle) for piece in plan.pieces],
            now=now,
        )


_RECORD_FACTS = (
    job_pieces.update()
    .where(job_pieces.c.job_id == bindparam("b_job_id"), job_pieces.c.piece_id == bindparam("b_piece_id"))
    .values(
        pages=bindparam("b_pages"),
        sheets=bindparam("b_sheets"),
        error_code=bindparam("b_error_code"),
        error_message=bindparam("b_error_message"),
    )
)


def _piece_count(engine: Engine, job_ids: list[int]) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(job_pieces).where(job_pieces.c.job_id.in_(job_ids))
        return int(connection.execute(query).scalar_one())


def _jobs_of_wave(engine: Engine, wave_id: int) -> list[int]:
    with engine.connect() as connection:
        query = select(print_jobs.c.id).where(
            print_jobs.c.wave_id == wave_id, print_jobs.c.reprint_of.is_(None)
        )
        return [int(job_id) for job_id in connection.execute(query.order_by(print_jobs.c.name)).scalars()]


def _finish_job(
    engine: Engine,
    campaign: Campaign,
    job_id: int,
    output: JobOutput,
    records: list[dict[str, Any]],
    folder: Path,
    wave_number: int,
    actor: str,
    now: dt.datetime,
    summary: ComposeSummary,
) -> None:
    sha256 = write_job_files(folder, output.job, output.pdf, output.pieces, records, campaign, wave_number)
    composed = [facts for facts in output.pieces if facts.ok]
    failed = [facts for facts in output.pieces if not facts.ok]
    with write_transaction(engine) as connection:
        bulk_execute(
            connection,
            _RECORD_FACTS,
            job_pieces,
            [
                {
                    "b_job_id": job_id,
                    "b_piece_id": facts.piece_id,
                    "b_pages": facts.pages,
                    "b_sheets": facts.sheets,
                    "b_error_code": facts.error_code,
                    "b_error_message": facts.error_message,
                }
                for facts in output.pieces
            ],
        )
        reason = f"job {output.job}"
        move_pieces(
            connection, [f.piece_id for f in composed], "composed", actor=actor, at=now, reason=reason
        )
        move_pieces(connection, [f.piece_id for f in failed], "failed", actor=actor, at=now, reason=reason)
        connection.execute(
            print_jobs.update()
            .where(print_jobs.c.id == job_id)
            .values(
                state="composed",
                pdf_sha256=sha256,
                folder=str(folder.resolve()),
                pieces=len(composed),
                failed=len(failed),
                sheets=sum(f.sheets for f in composed),
                pages=sum(f.pages for f in composed),
                updated_at=now,
            )
        )
    summary.jobs.append(output.job)
    summary.composer_cpu_s += output.cpu_s
    summary.letters += len(composed)
    summary.sheets += sum(f.sheets for f in composed)
    summary.failures += [
        {"job": output.job, "piece_id": f.piece_id, "error": f.error_code, "message": f.error_message}
        for f in failed
    ]
