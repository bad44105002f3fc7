"""Reading an inserter's results back: each envelope's status applied to its piece, nothing silently.

The file (format in ``courrier.production.inserter``) comes from a machine, a USB stick or a person:
it is read defensively. The whole file is refused, with one line and nothing changed, when it is larger
than :data:`MAX_FILE_BYTES`, not UTF-8, binary (a NUL byte), or lacks the columns; a record that cannot
be read (a short line, a piece id that is not ASCII digits, an unknown status, a field longer than
:data:`MAX_FIELD`) is reported with its line and the others are read.

Every record is kept in ``inserter_results`` with its outcome. Only a record about a piece whose current
job is the file's job, reported for the first time, and whose state allows it, is applied; the others
are reported: ``unknown_piece``, ``other_job``, ``duplicate`` (twice in this file, or already reported
by an earlier file), ``not_allowed`` (e.g. a withdrawn piece). Refused whole:

- a job that was never marked printed (``job_not_printed``): envelopes do not come from a job that was
  not printed, and marking it is a person's statement, not the inserter's;
- ``--job J`` for a file none of whose pieces is in J (``wrong_job``);
- a second reading of the job's results while one runs (``step_running``, see ``production.locks``).

A file whose every record was already applied is "already read": nothing changes, nothing is recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from courrier.db import write_transaction
from courrier.db.bulk import bulk_insert, select_where_in
from courrier.db.schema import inserter_results, pieces, print_jobs
from courrier.errors import ConflictError, InputFileError
from courrier.ledger.pieces import can_move, move_pieces
from courrier.production.inserter import RESULT_COLUMNS, RESULT_STATUSES, InserterResult
from courrier.production.jobs import Job, current_job_ids, get_job
from courrier.production.locks import step_lock
from courrier.production.text_files import read_text_file
from courrier.result import Result

# A job has a few thousand envelopes, a line ~45 bytes: 16 MB is 350,000 records, far beyond any job.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_FIELD = 64
# How often the reader tells its progress, in lines.
PROGRESS_LINES = 10_000
_PIECE_ID = re.compile(r"[0-9]{1,10}")  # ASCII digits only: "٥٠١" and "５" are not ids
_MAX_PIECE_ID = 2**31 - 1  # the database's integer


@dataclass
class ResultsSummary(Result):
    job: str
    records: int
    applied: Counter[str] = field(default_factory=Counter)
    refused: list[tuple[int, int | None, str]] = field(default_factory=list)  # (line, piece id, outcome)
    already_read: bool = False

    def to_json(self) -> dict[str, object]:
        # A refusal as an object with named fields, not a bare triple.
        return {
            "job": self.job,
            "records": self.records,
            "already_read": self.already_read,
            "applied": dict(self.applied),
            "refused": [
                {"line": line, "piece_id": piece, "outcome": why} for line, piece, why in self.refused
            ],
        }


def read_results_file(
    path: Path, progress: Callable[[str, int, int], None] | None = None
) -> tuple[list[InserterResult], list[tuple[int, str]]]:
    """The results a file reports, and (line, problem) for the records that cannot be read.
    ``progress("reading", lines done, lines)`` is told every :data:`PROGRESS_LINES` lines."""
    text = read_text_file(path, max_bytes=MAX_FILE_BYTES, kind="an inserter results file")
    lines = text.splitlines()
    if not lines:
        return [], []
    header = [name.strip().lower() for name in _fields(lines[0]) or []]
    missing = [name for name in RESULT_COLUMNS if name not in header]
    if missing:
        raise InputFileError(f"{path}: column(s) missing: {', '.join(missing)}", code="missing_columns")
    index = {name: header.index(name) for name in RESULT_COLUMNS}
    results: list[InserterResult] = []
    problems: list[tuple[int, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        if progress is not None and number % PROGRESS_LINES == 0:
            progress("reading", number - 1, len(lines) - 1)
        if not line.strip():
            continue
        values = _fields(line)
        problem = _problem(values, len(header))
        if problem is None and values is not None:
            piece_id, status = values[index["piece_id"]].strip(), values[index["status"]].strip().lower()
            if not _PIECE_ID.fullmatch(piece_id) or int(piece_id) > _MAX_PIECE_ID:
                problem = f"piece id {piece_id[:20]!r} is not a piece id (ASCII digits)"
            elif status not in RESULT_STATUSES:
                problem = f"status {status[:20]!r} is not one of {', '.join(RESULT_STATUSES)}"
            else:
                time, machine = values[index["time"]].strip(), values[index["machine"]].strip()
                results.append(InserterResult(number, int(piece_id), status, time, machine))
                continue
        problems.append((number, problem or "unreadable"))
    return results, problems


def _fields(line: str) -> list[str] | None:
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return None


def _problem(values: list[str] | None, expected: int) -> str | None:
    if values is None:
        return "not a CSV record"
    if len(values) != expected:
        return f"{len(values)} fields, the header has {expected}"
    longest = max(values, key=len, default="")
    if len(longest) > MAX_FIELD:
        return f"a field of {len(longest)} characters (at most {MAX_FIELD})"
    return None


def apply_results(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    at: dt.datetime,
    job_name: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> ResultsSummary:
    """Read ``path`` and apply its records to job ``job_name`` (default: the job most of its pieces are
    in). ``progress(phase, done, total)``: ``reading`` lines, then ``applying`` (records), told before
    the one transaction that applies them all (nothing can be told from inside it)."""
    results, unreadable = read_results_file(path, progress)
    if not results and not unreadable:
        raise InputFileError(f"{path} holds no results", code="empty_file")
    piece_ids = sorted({result.piece_id for result in results})
    with engine.connect() as connection:
        job = _job_of(connection, job_name, current_job_ids(connection, piece_ids), path)
    lock = step_lock(engine, f"results:job:{job.id}", actor=actor, what=f"reading results of job {job.name}")
    if progress is not None:
        progress("applying", 0, len(results) + len(unreadable))
    with lock, write_transaction(engine) as connection:
        return _apply(connection, path, job.name, results, unreadable, actor=actor, at=at)


def _apply(
    connection: Connection,
    path: Path,
    job_name: str,
    results: list[InserterResult],
    unreadable: list[tuple[int, str]],
    *,
    actor: str,
    at: dt.datetime,
) -> ResultsSummary:
    job = get_job(connection, job_name)  # read again under the lock
    if job.state not in ("printed", "inserted", "posted"):
        raise ConflictError(
            f"job {job.name} is {job.state}, not printed: mark it first (`courrier jobs mark {job.name} "
            "printed`) if its sheets were printed",
            code="job_not_printed",
        )
    current = current_job_ids(connection, sorted({result.piece_id for result in results}))
    summary = ResultsSummary(job=job.name, records=len(results) + len(unreadable))
    summary.refused.extend((line, None, f"unreadable: {problem}") for line, problem in unreadable)
    states = dict(select_where_in(connection, [pieces.c.id, pieces.c.state], pieces.c.id, sorted(current)))
    already = set(
        connection.execute(
            select(inserter_results.c.piece_id).where(
                inserter_results.c.job_id == job.id, inserter_results.c.outcome == "applied"
            )
        ).scalars()
    )
    if results and not unreadable and all(result.piece_id in already for result in results):
        summary.already_read = True
        return summary
    outcomes: list[tuple[InserterResult, str]] = []
    seen: set[int] = set()
    for result in results:
        outcome = _outcome(result, job, current, states, already | seen)
        outcomes.append((result, outcome))
        if outcome == "applied":
            seen.add(result.piece_id)
            summary.applied[result.status] += 1
        else:
            summary.refused.append((result.line, result.piece_id, outcome))
    by_status: dict[str, list[int]] = {}
    for result, outcome in outcomes:
        if outcome == "applied":
            by_status.setdefault(result.status, []).append(result.piece_id)
    for status, piece_ids in by_status.items():
        move_pieces(connection, piece_ids, status, actor=actor, at=at, reason=f"inserter results {path.name}")
    _record(connection, path.name, job.id, current, outcomes, at)
    if job.state == "printed" and seen:
        connection.execute(
            print_jobs.update().where(print_jobs.c.id == job.id).values(state="inserted", updated_at=at)
        )
    return summary


def _job_of(connection: Connection, job_name: str | None, current: dict[int, int], path: Path) -> Job:
    jobs = Counter(current.values())
    if job_name:
        job = get_job(connection, job_name)
        if jobs and job.id not in jobs:
            others = connection.execute(
                select(print_jobs.c.name).where(print_jobs.c.id.in_(list(jobs))).order_by(print_jobs.c.name)
            ).scalars()
            raise ConflictError(
                f"{path} reports on job(s) {', '.join(others)}, not on {job_name}: none of its pieces is "
                f"in {job_name}",
                code="wrong_job",
            )
        return job
    if not jobs:
        raise InputFileError(
            f"{path}: none of its pieces is in a print job; name the job with --job", code="no_job"
        )
    job_id = jobs.most_common(1)[0][0]
    name = connection.execute(select(print_jobs.c.name).where(print_jobs.c.id == job_id)).scalar_one()
    return get_job(connection, name)


def _outcome(
    result: InserterResult, job: Job, current: dict[int, int], states: dict[int, str], reported: set[int]
) -> str:
    if result.piece_id not in current:
        return "unknown_piece"
    if current[result.piece_id] != job.id:
        return "other_job"
    if result.piece_id in reported:
        return "duplicate"
    if not can_move(states[result.piece_id], result.status):
        return "not_allowed"
    return "applied"


def _record(
    connection: Connection,
    file_name: str,
    job_id: int,
    current: dict[int, int],
    outcomes: list[tuple[InserterResult, str]],
    at: dt.datetime,
) -> None:
    bulk_insert(
        connection,
        inserter_results,
        [
            {
                "line": result.line,
                "job_id": current.get(result.piece_id, job_id) if outcome != "unknown_piece" else None,
                "piece_id": result.piece_id,
                "status": result.status,
                "reported_at": result.time,
                "machine": result.machine,
                "outcome": outcome,
            }
            for result, outcome in outcomes
        ],
        constants={"file_name": file_name, "created_at": at},
    )
