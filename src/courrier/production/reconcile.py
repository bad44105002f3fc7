"""Reconciliation: for each print job, what the inserter reported against what was expected."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from courrier.db.schema import inserter_results, job_pieces, pieces, print_jobs
from courrier.production.jobs import list_jobs
from courrier.result import Result

REPORTED = ("inserted", "diverted", "damaged", "missing")


@dataclass(frozen=True)
class Reconciliation(Result):
    """Per job (``job``, ``state``, ``reprint_of`` and the counts) and in ``total``: expected, inserted,
    diverted, damaged, missing, unreported."""

    jobs: list[dict[str, Any]]
    total: dict[str, int]


def reconcile(connection: Connection, campaign_id: int) -> Reconciliation:
    """Per job and in total: expected, inserted, diverted, damaged, missing, unreported."""
    jobs: list[dict[str, Any]] = []
    total: Counter[str] = Counter()
    for job in list_jobs(connection, campaign_id=campaign_id):
        expected = connection.execute(
            select(func.count()).where(job_pieces.c.job_id == job.id, job_pieces.c.error_code.is_(None))
        ).scalar_one()
        statuses = Counter(
            connection.execute(
                select(inserter_results.c.status).where(
                    inserter_results.c.job_id == job.id, inserter_results.c.outcome == "applied"
                )
            ).scalars()
        )
        counts = {"expected": int(expected), **{status: statuses[status] for status in REPORTED}}
        counts["unreported"] = counts["expected"] - sum(statuses[status] for status in REPORTED)
        jobs.append({"job": job.name, "state": job.state, "reprint_of": job.reprint_of, **counts})
    # The total counts each piece once, by where it stands now: a lost piece that a reprint job got into
    # its envelope is inserted, not lost and expected twice (a 144-piece wave is 144, not 156).
    composed = (
        select(job_pieces.c.piece_id)
        .join(print_jobs, print_jobs.c.id == job_pieces.c.job_id)
        .where(print_jobs.c.campaign_id == campaign_id, job_pieces.c.error_code.is_(None))
        .distinct()
    )
    for state, count in connection.execute(
        select(pieces.c.state, func.count()).where(pieces.c.id.in_(composed)).group_by(pieces.c.state)
    ):
        outcome = _OUTCOME.get(str(state), "")
        if outcome:
            total["expected"] += int(count)
            total[outcome] += int(count)
    keys = ("expected", *REPORTED, "unreported")
    return Reconciliation(jobs, {key: total[key] for key in keys})


# Where a piece's state puts it in the total; "" for a piece no longer expected (re-issued, withdrawn).
_OUTCOME = {
    "inserted": "inserted",
    "posted": "inserted",
    "returned": "inserted",
    "diverted": "diverted",
    "damaged": "damaged",
    "missing": "missing",
    "composed": "unreported",
    "printed": "unreported",
}
