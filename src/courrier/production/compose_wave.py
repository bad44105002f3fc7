"""``courrier compose``: a wave's pieces into presorted print jobs, composed on Dask.

1. **Plan** (one transaction; see :mod:`courrier.production.compose_plan`): the pieces that may be
   composed, chosen by their state, are presorted and cut into jobs; the jobs and their piece order are
   stored before anything is composed, so a re-run finds the same assignment.
2. **Compose**: each ``planned`` job is one Dask task: records in, PDF bytes and per-letter facts out
   (the composer is pure and knows no database). The client writes the job's files atomically, then in
   one transaction records pages, sheets and failures and moves the pieces to ``composed`` (or
   ``failed``). Only pieces whose state allows ``composed`` are put in the PDF.

A job is never composed twice because of its files: a composed job whose files are intact is *kept*, a
printed, inserted or posted one is *done* whatever folder is named, and a composed job whose PDF is
missing or changed is *reported*; re-making it is explicit (``remake``), audited (``job.remade``) and
refused once any of its pieces was printed. A job none of whose letters could be composed has no files
and ends ``empty``: a print file never has 0 pages.

Files of a job, in the campaign's folder: ``JOB.pdf``, ``JOB.manifest.csv``, ``JOB.ticket.json``,
``JOB.inserter.csv`` (see :mod:`courrier.production.job_files`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, bindparam, func, select

from courrier.campaigns.store import Campaign, get_campaign, require_frozen_template
from courrier.certificates.pki import Signer
from courrier.codes.keys import Keys
from courrier.db import write_transaction
from courrier.db.bulk import bulk_execute
from courrier.db.schema import job_pieces, pieces, print_jobs, waves
from courrier.errors import ConflictError
from courrier.ledger.events import record_event
from courrier.ledger.pieces import can_move, move_pieces
from courrier.production import compose_plan
from courrier.production.job_files import JobSetting, PieceFacts, job_file, write_job_files
from courrier.production.jobs import current_pieces
from courrier.production.locks import step_lock
from courrier.production.presort import DEFAULT_JOB_SIZE_SHEETS
from courrier.production.profiles import (
    InserterProfile,
    MarkLayout,
    PrinterProfile,
    check_mark_placement,
    load_inserter,
    load_printer,
)
from courrier.production.records import job_records
from courrier.result import Result

# Job states past composing: the job's paper exists, its pieces are never composed into it again.
_DONE = ("printed", "inserted", "posted")


@dataclass
class ComposeSummary(Result):
    campaign: str
    wave: int | None  # None for re-issues
    folder: Path
    jobs: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)  # printed or later: never composed again
    damaged: list[str] = field(default_factory=list)  # composed, files missing or changed: not re-made
    empty: list[str] = field(default_factory=list)  # no letter could be composed: no files
    letters: int = 0
    sheets: int = 0
    composer_cpu_s: float = 0.0
    failures: list[dict[str, Any]] = field(default_factory=list)
    # Pieces of a job left out of its PDF because their state no longer allows it (withdrawn...).
    left_out: list[dict[str, Any]] = field(default_factory=list)

    def require_intact(self) -> None:
        """Refuse (``job_files_changed``) when composed jobs' files are missing or changed: the print
        room must not take them, and compose did not silently re-make them."""
        if self.damaged:
            raise ConflictError(
                f"composed jobs whose files are missing or changed in {self.folder}: "
                f"{', '.join(self.damaged)}; restore them, or re-make them with --remake (refused once"
                " printed)",
                code="job_files_changed",
            )

    def to_json(self) -> dict[str, Any]:
        # The job lists named for what happened to them; the composer's CPU time is for the benchmark.
        return {
            "campaign": self.campaign,
            "wave": self.wave,
            "folder": str(self.folder),
            "jobs_composed": self.jobs,
            "jobs_kept": self.kept,
            "jobs_done": self.done,
            "jobs_damaged": self.damaged,
            "jobs_empty": self.empty,
            "letters": self.letters,
            "sheets": self.sheets,
            "failures": self.failures,
            "left_out": self.left_out,
        }


@dataclass(frozen=True)
class JobOutput:
    """What a Dask task sends back: the PDF and, per piece, pages, sheets or why it failed."""

    job: str
    pdf: bytes
    pieces: list[PieceFacts]
    cpu_s: float = 0.0  # the worker's CPU time for this job


@dataclass(frozen=True)
class _Todo:
    job_id: int
    name: str
    folder: Path
    wave: int | None
    remake: bool
    created_at: dt.datetime | None = None  # the job's time: the print file's only date
    send_date: dt.date | None = None
    domestic: bool = True


def compose_wave(
    engine: Engine,
    campaign_name: str,
    wave_number: int | None,
    *,
    out: Path | None,
    keys: Keys,
    signer: Signer | None = None,
    actor: str,
    now: dt.datetime,
    job_size_sheets: int = DEFAULT_JOB_SIZE_SHEETS,
    retry_failed: bool = False,
    remake: bool = False,
    client: Any,
    on_start: Callable[[int, int], None] | None = None,
    on_job_done: Callable[[str, int], None] | None = None,
    printer: PrinterProfile | None = None,
    inserter: InserterProfile | None = None,
) -> ComposeSummary:
    """Compose wave ``wave_number`` (``None``: the campaign's re-issues) on ``client`` (a
    ``distributed.Client``, see :class:`courrier.app.App`).

    ``on_start(jobs, letters)`` is told what is to be made, once; ``on_job_done(job, letters)`` after
    each job, for a progress bar. One compose of a wave at a time (``step_running`` for the second).
    ``signer``: the EU DCC document signer a campaign of kind ``certificate`` needs (its letters carry
    each person's certificate, see :func:`courrier.production.records.job_records`)."""
    what = f"compose of {campaign_name} " + ("re-issues" if wave_number is None else f"wave {wave_number}")
    target = "reissues" if wave_number is None else f"wave:{wave_number}"
    with step_lock(engine, f"compose:{campaign_name}:{target}"[:120], actor=actor, what=what):
        return _compose_wave(
            engine,
            campaign_name,
            wave_number,
            out=out,
            keys=keys,
            signer=signer,
            actor=actor,
            now=now,
            job_size_sheets=job_size_sheets,
            retry_failed=retry_failed,
            remake=remake,
            client=client,
            on_start=on_start,
            on_job_done=on_job_done,
            printer=printer,
            inserter=inserter,
        )


def _compose_wave(
    engine: Engine,
    campaign_name: str,
    wave_number: int | None,
    *,
    out: Path | None,
    keys: Keys,
    signer: Signer | None = None,
    actor: str,
    now: dt.datetime,
    job_size_sheets: int,
    retry_failed: bool,
    remake: bool,
    client: Any,
    on_start: Callable[[int, int], None] | None,
    on_job_done: Callable[[str, int], None] | None,
    printer: PrinterProfile | None,
    inserter: InserterProfile | None,
) -> ComposeSummary:
    with write_transaction(engine) as connection:
        campaign = get_campaign(connection, campaign_name)
        require_frozen_template(campaign)
        folder = compose_plan.campaign_folder(connection, campaign, out)
        if wave_number is None:
            compose_plan.require_codes(connection, campaign, None)
            compose_plan.plan_reissues(connection, campaign, folder, job_size_sheets, now)
            job_query: ColumnElement[bool] = print_jobs.c.wave_id.is_(None)
        else:
            wave = compose_plan.wave_id(connection, campaign, wave_number)
            compose_plan.require_codes(connection, campaign, (wave, wave_number))
            compose_plan.plan_wave(connection, campaign, wave, folder, job_size_sheets, now)
            if retry_failed:
                compose_plan.plan_retry(connection, campaign, wave, folder, job_size_sheets, now)
            job_query = print_jobs.c.wave_id == wave
        job_ids = list(
            connection.execute(
                select(print_jobs.c.id)
                .where(print_jobs.c.campaign_id == campaign.id, print_jobs.c.reprint_of.is_(None), job_query)
                .order_by(print_jobs.c.name)
            ).scalars()
        )
    summary = ComposeSummary(campaign.name, wave_number, folder)
    return compose_jobs(
        engine,
        campaign,
        job_ids,
        summary,
        keys=keys,
        signer=signer,
        actor=actor,
        now=now,
        remake=remake,
        client=client,
        on_start=on_start,
        on_job_done=on_job_done,
        printer=printer,
        inserter=inserter,
    )


def compose_jobs(
    engine: Engine,
    campaign: Campaign,
    job_ids: list[int],
    summary: ComposeSummary,
    *,
    keys: Keys,
    signer: Signer | None = None,
    actor: str,
    now: dt.datetime,
    remake: bool = False,
    client: Any,
    on_start: Callable[[int, int], None] | None = None,
    on_job_done: Callable[[str, int], None] | None = None,
    printer: PrinterProfile | None = None,
    inserter: InserterProfile | None = None,
) -> ComposeSummary:
    """Compose the given jobs that are planned (and, with ``remake``, the composed ones whose files are
    missing or changed); keep, or report, the others. ``printer`` and ``inserter`` are the machines'
    profiles (default: the built-in ones): the print condition, plex, sheet mark and ticket follow them."""
    printer = printer or load_printer()
    inserter = inserter or load_inserter()
    template = _template(campaign.template_path, campaign.template_sha256)
    _check_mark(inserter, template)
    duplex = printer.duplex(template.duplex)
    todo = _select_jobs(engine, campaign, job_ids, summary, remake, actor, now)
    if not todo:
        return summary
    records_of: dict[str, tuple[_Todo, list[dict[str, Any]], list[tuple[int, str]]]] = {}

    def setting(job: _Todo) -> JobSetting:
        return JobSetting(
            printer,
            inserter,
            template_duplex=template.duplex,
            window=template.window.name,
            send_date=job.send_date,
            domestic=job.domestic,
        )

    if on_start:
        on_start(len(todo), _piece_count(engine, [job.job_id for job in todo]))
    from distributed import as_completed

    # Records are built job by job and only a few jobs are in flight: memory stays flat however
    # large the wave (a million records at once would not fit).
    in_flight = max(2, 2 * len(client.scheduler_info()["workers"]))
    pending: Iterator[_Todo] = iter(todo)

    def submit_next() -> Any:
        for job in pending:
            with engine.connect() as connection:
                batch, left_out = _composable_records(connection, campaign, job, keys, now, signer)
            if not batch:  # every piece withdrawn or re-issued since planning: nothing to print
                _finish_job(
                    engine,
                    campaign,
                    job,
                    JobOutput(job.name, b"", []),
                    [],
                    left_out,
                    actor,
                    now,
                    summary,
                    setting(job),
                )
                continue
            records_of[job.name] = (job, batch, left_out)
            return client.submit(
                compose_task,
                campaign.template_path,
                campaign.template_sha256,
                job.name,
                JobRecords(batch),
                job.created_at,
                printer.colour,
                inserter.mark,
                duplex,
                # Unique: a shared scheduler may hold an older task of the same job name (another
                # database, or a re-made job) and would hand back its result.
                key=f"compose-{job.name}-{uuid.uuid4().hex}",
            )
        return None

    queue = as_completed([future for future in (submit_next() for _ in range(in_flight)) if future])  # type: ignore[no-untyped-call]
    for future in queue:
        output: JobOutput = future.result()
        job, batch, left_out = records_of.pop(output.job)
        following = submit_next()
        if following is not None:
            queue.add(following)  # type: ignore[no-untyped-call]
        if not _finish_job(engine, campaign, job, output, batch, left_out, actor, now, summary, setting(job)):
            pending = itertools.chain([job], pending)  # its records are read again, without them
            if not records_of:
                following = submit_next()
                if following is not None:
                    queue.add(following)  # type: ignore[no-untyped-call]
            continue
        if on_job_done:
            on_job_done(output.job, len(batch))
    summary.jobs.sort()
    return summary


def _select_jobs(
    engine: Engine,
    campaign: Campaign,
    job_ids: list[int],
    summary: ComposeSummary,
    remake: bool,
    actor: str,
    now: dt.datetime,
) -> list[_Todo]:
    """Which jobs to compose, by their state (and, for a composed job, whether its files are intact)."""
    todo: list[_Todo] = []
    with write_transaction(engine) as connection:
        query = (
            select(print_jobs, waves.c.number.label("wave_number"), waves.c.send_date)
            .outerjoin(waves, waves.c.id == print_jobs.c.wave_id)
            .where(print_jobs.c.id.in_(job_ids))
            .order_by(print_jobs.c.name)
        )
        for row in connection.execute(query).all():
            folder = Path(row.folder) if Path(row.folder).is_absolute() else summary.folder
            if row.state in _DONE:
                summary.done.append(row.name)
            elif row.state == "empty":
                summary.empty.append(row.name)
            elif row.state == "planned":
                compose_plan.make_folder(folder)
                todo.append(_Todo(row.id, row.name, folder, row.wave_number, False, *_job_facts(row)))
            elif _intact(job_file(folder, row.name, "pdf"), row.pdf_sha256):
                summary.kept.append(row.name)
            elif not remake:
                summary.damaged.append(row.name)
            else:
                _require_unprinted(connection, row.id, row.name)
                if row.template_version_id != campaign.template_version_id:
                    raise ConflictError(
                        f"job {row.name} was composed with another template version than the"
                        " campaign's current one: it cannot be re-made from it",
                        code="template_changed",
                    )
                record_event(
                    connection,
                    "job.remade",
                    actor,
                    campaign_id=campaign.id,
                    reason=f"job {row.name}: files missing or changed in {folder}",
                    details={"job": row.name, "pdf_sha256": row.pdf_sha256},
                    at=now,
                )
                compose_plan.make_folder(folder)
                todo.append(_Todo(row.id, row.name, folder, row.wave_number, True, *_job_facts(row)))
    return todo


def _job_facts(row: Any) -> tuple[dt.datetime, dt.date | None, bool]:
    return row.created_at, row.send_date, bool(row.domestic)


def _require_unprinted(connection: Connection, job_id: int, name: str) -> None:
    ids = current_pieces(connection, job_id, composed_only=False)
    states = connection.execute(select(pieces.c.state).where(pieces.c.id.in_(ids))).scalars()
    if any(state not in ("composed", "failed", "withdrawn", "reissued") for state in states):
        raise ConflictError(
            f"job {name} has printed pieces: it cannot be re-made (use `courrier reprint`)",
            code="job_printed",
        )


def _composable_records(
    connection: Connection,
    campaign: Campaign,
    job: _Todo,
    keys: Keys,
    now: dt.datetime,
    signer: Signer | None = None,
) -> tuple[list[dict[str, Any]], list[tuple[int, str]]]:
    """The records of the job's pieces that may go into its PDF now: those whose current job it is and
    whose state allows ``composed`` (for a re-made job: those it composed); and (piece id, state) of the
    job's pieces left out because their state changed since planning (withdrawn, re-issued)."""
    ids = current_pieces(connection, job.job_id, composed_only=job.remake)
    states = dict(connection.execute(select(pieces.c.id, pieces.c.state).where(pieces.c.id.in_(ids))).all())
    wanted = {
        piece_id
        for piece_id in ids
        if (
            states.get(piece_id) == "composed"
            if job.remake
            else can_move(states.get(piece_id, ""), "composed")
        )
    }
    records = [
        record
        for record in job_records(connection, campaign, job.job_id, keys, now.date(), signer=signer)
        if int(record["piece_id"]) in wanted
    ]
    ended = ("withdrawn", "reissued")
    left_out = [(piece_id, states[piece_id]) for piece_id in ids if states.get(piece_id) in ended]
    return records, left_out


@lru_cache(maxsize=4)
def _template(path: str, sha256: str) -> Any:
    """The loaded template, cached per version: a long-lived worker must not keep a folder's old
    content once the campaign recorded a new version of it (``sha256`` is part of the key)."""
    from courrier.compose import load_template

    return load_template(Path(path))


@dataclass(frozen=True)
class JobRecords:
    """A job's records as one opaque argument of a Dask task: Dask walks a list or dict argument down
    to its last value looking for futures, which cost the main process a third of a millisecond a
    voucher letter (3.1 s of 9,367), in the process that also builds the records for every worker."""

    rows: list[dict[str, Any]]


def compose_task(
    template_path: str,
    template_sha256: str,
    job: str,
    records: JobRecords,
    created_at: dt.datetime | None = None,
    colour: str = "cmyk",
    mark: MarkLayout | None = None,
    duplex: bool | None = None,
) -> JobOutput:
    """Runs on a Dask worker: pure, records in, PDF bytes out. ``created_at`` is the job's time (the
    file's only date), ``colour`` the printer's print condition, ``mark`` the inserter's sheet mark."""
    started = time.process_time()
    from courrier.compose import compose_job
    from courrier.compose.job import MarkPlacement
    from courrier.compose.print_condition import CONDITIONS

    layout = mark or load_inserter().mark
    buffer = io.BytesIO()
    result = compose_job(
        _template(template_path, template_sha256),
        records.rows,
        buffer,
        job_id=job,
        sheet_marks=partial(_mark, job, layout),
        created_at=created_at,
        duplex=duplex,
        condition=CONDITIONS[colour],
        mark=MarkPlacement(layout.x_mm, layout.y_mm, layout.module_mm),
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


def _mark(job: str, layout: MarkLayout, _index: int, record: Any, sheet: int, sheets: int) -> str:
    return layout.text(job, int(record["sequence"]), sheet, sheets)


# The longest mark a job may carry: a reprint job's name (J000123.R2), a six-digit sequence, 99 sheets.
_LONGEST_JOB = "J000000.R99"


def _check_mark(inserter: InserterProfile, template: Any) -> None:
    """Refuse, before composing anything, a mark that would land on an edge, the window or a fold."""
    from courrier.compose.barcodes import datamatrix_matrix

    modules = datamatrix_matrix(inserter.mark.text(_LONGEST_JOB, 999_999, 99, 99)).shape[0]
    window = template.window
    check_mark_placement(
        inserter,
        modules * inserter.mark.module_mm,
        (template.width_mm, template.height_mm),
        (window.x, window.y, window.width, window.height),
    )


def _intact(path: Path, sha256: str | None) -> bool:
    if sha256 is None or not path.exists():
        return False
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest() == sha256


_RECORD_FACTS = (
    job_pieces.update()
    .where(job_pieces.c.job_id == bindparam("b_job_id"), job_pieces.c.piece_id == bindparam("b_piece_id"))
    .values(
        pages=bindparam("b_pages"),
        sheets=bindparam("b_sheets"),
        country=bindparam("b_country"),
        error_code=bindparam("b_error_code"),
        error_message=bindparam("b_error_message"),
    )
)


def _piece_count(engine: Engine, job_ids: list[int]) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(job_pieces).where(job_pieces.c.job_id.in_(job_ids))
        return int(connection.execute(query).scalar_one())


def _finish_job(
    engine: Engine,
    campaign: Campaign,
    job: _Todo,
    output: JobOutput,
    records: list[dict[str, Any]],
    left_out: list[tuple[int, str]],
    actor: str,
    now: dt.datetime,
    summary: ComposeSummary,
    setting: JobSetting,
) -> bool:
    """Write the job's files and record it; False, writing nothing, when one of its letters may no longer
    be sent (withdrawn or re-issued while it was composed): the caller composes the job again."""
    composed = [facts for facts in output.pieces if facts.ok]
    failed = [facts for facts in output.pieces if not facts.ok]
    # Where each letter is addressed, as printed: the posting statement counts these.
    country = {int(record["piece_id"]): str(record["person"]["country"]) for record in records}
    with write_transaction(engine) as connection:
        # The pieces' states at the moment the files are written, locked until they are recorded.
        if _changed_since_read(connection, [f.piece_id for f in composed], job.remake):
            return False
        # A print file with no letter is no print file: the job ends empty, with its failures on record.
        sha256 = (
            write_job_files(
                job.folder,
                output.job,
                output.pdf,
                output.pieces,
                records,
                campaign,
                job.wave,
                setting=setting,
            )
            if composed
            else None
        )
        bulk_execute(
            connection,
            _RECORD_FACTS,
            job_pieces,
            [
                {
                    "b_job_id": job.job_id,
                    "b_piece_id": facts.piece_id,
                    "b_pages": facts.pages,
                    "b_sheets": facts.sheets,
                    "b_country": country.get(facts.piece_id) if facts.ok else None,
                    "b_error_code": facts.error_code,
                    "b_error_message": facts.error_message,
                }
                for facts in output.pieces
            ]
            + [
                {
                    "b_job_id": job.job_id,
                    "b_piece_id": piece_id,
                    "b_pages": 0,
                    "b_sheets": 0,
                    "b_country": None,
                    "b_error_code": state,
                    "b_error_message": f"left out: the piece is {state}",
                }
                for piece_id, state in left_out
            ],
        )
        reason = f"job {output.job}"
        move_pieces(
            connection, [f.piece_id for f in composed], "composed", actor=actor, at=now, reason=reason
        )
        move_pieces(connection, [f.piece_id for f in failed], "failed", actor=actor, at=now, reason=reason)
        connection.execute(
            print_jobs.update()
            .where(print_jobs.c.id == job.job_id)
            .values(
                state="composed" if composed else "empty",
                pdf_sha256=sha256,
                folder=str(job.folder),
                pieces=len(composed),
                failed=len(failed),
                sheets=sum(f.sheets for f in composed),
                pages=sum(f.pages for f in composed),
                updated_at=now,
            )
        )
    (summary.jobs if composed else summary.empty).append(output.job)
    summary.composer_cpu_s += output.cpu_s
    summary.letters += len(composed)
    summary.sheets += sum(f.sheets for f in composed)
    summary.failures += [
        {"job": output.job, "piece_id": f.piece_id, "error": f.error_code, "message": f.error_message}
        for f in failed
    ]
    summary.left_out += [{"job": output.job, "piece_id": p, "state": state} for p, state in left_out]
    return True


def _changed_since_read(connection: Connection, piece_ids: list[int], remake: bool) -> bool:
    """Whether any of the pieces may no longer be composed, their rows locked (FOR UPDATE on PostgreSQL;
    SQLite's write transaction already excludes every other writer)."""
    for start in range(0, len(piece_ids), 1000):
        rows = connection.execute(
            select(pieces.c.state).where(pieces.c.id.in_(piece_ids[start : start + 1000])).with_for_update()
        ).scalars()
        if any(not (can_move(state, "composed") or (remake and state == "composed")) for state in rows):
            return True
    return False
