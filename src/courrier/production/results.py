"""Reading an inserter's results back: each envelope's status applied to its piece, nothing silently.

Every record of the file is kept in ``inserter_results`` with its outcome. Only a record about a piece
whose current job is the file's job, reported for the first time, and whose state allows it, is applied;
the others are reported: ``unknown_piece``, ``other_job``, ``duplicate`` (twice in this file, or already
reported by an earlier file), ``not_allowed`` (e.g. a withdrawn piece). Reading the same file twice
therefore changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, select

from courrier.db.bulk import bulk_insert, select_where_in
from courrier.db.schema import inserter_results, pieces, print_jobs
from courrier.errors import ConflictError, InputFileError
from courrier.ledger.pieces import can_move, move_pieces
from courrier.production.inserter import InserterResult, read_results_file
from courrier.production.jobs import Job, current_job_ids, get_job, mark_job


@dataclass
class ResultsSummary:
    job: str
    records: int
    applied: Counter[str] = field(default_factory=Counter)
    refused: list[tuple[int, int | None, str]] = field(default_factory=list)  # (line, piece id, outcome)

    def as_dict(self) -> dict[str, object]:
        return {
            "job": self.job,
            "records": self.records,
            "applied": dict(self.applied),
            "refused": [
                {"line": line, "piece_id": piece, "outcome": why} for line, piece, why in self.refused
            ],
        }


def apply_results(
    engine: Engine, path: Path, *, actor: str, at: dt.datetime, job_name: str | None = None
) -> ResultsSummary:
    results, unreadable = read_results_file(path)
    if not results and not unreadable:
        raise InputFileError(f"{path} holds no results", code="empty_file")
    with engine.begin() as connection:
        current = current_job_ids(connection, sorted({result.piece_id for result in results}))
        job = _job_of(connection, job_name, current, path)
        if job.state == "composed":
            # Envelopes came off the inserter: the job was printed, whether or not someone said so.
            mark_job(connection, job.name, "printed", actor=actor, at=at)
        summary = ResultsSummary(job=job.name, records=len(results) + len(unreadable))
        summary.refused.extend((line, None, f"unreadable: {problem}") for line, problem in unreadable)
        states = dict(
            select_where_in(connection, [pieces.c.id, pieces.c.state], pieces.c.id, sorted(current))
        )
        already = set(
            connection.execute(
                select(inserter_results.c.piece_id).where(
                    inserter_results.c.job_id == job.id, inserter_results.c.outcome == "applied"
                )
            ).scalars()
        )
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
            move_pieces(
                connection, piece_ids, status, actor=actor, at=at, reason=f"inserter results {path.name}"
            )
        _record(connection, path.name, job.id, current, outcomes, at)
        if job.state != "posted":
            connection.execute(
                print_jobs.update().where(print_jobs.c.id == job.id).values(state="inserted", updated_at=at)
            )
    return summary


def _job_of(connection: Connection, job_name: str | None, current: dict[int, int], path: Path) -> Job:
    if job_name:
        return get_job(connection, job_name)
    jobs = Counter(current.values())
    if not jobs:
        raise InputFileError(
            f"{path}: none of its pieces is in a print job; name the job with --job", code="no_job"
        )
    job_id = jobs.most_common(1)[0][0]
    name = connection.execute(select(print_jobs.c.name).where(print_jobs.c.id == job_id)).scalar_one()
    job = get_job(connection, name)
    if job.state not in ("composed", "printed", "inserted"):
        raise ConflictError(f"job {job.name} is {job.state}: it takes no inserter results", code="job_state")
    return job


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
