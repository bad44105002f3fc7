"""Reconciliation: for each print job, what the inserter reported against what was expected."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, func, select

from courrier.db.schema import inserter_results, job_pieces
from courrier.production.jobs import list_jobs

REPORTED = ("inserted", "diverted", "damaged", "missing")


def reconcile(connection: Connection, campaign_id: int) -> dict[str, Any]:
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
        total.update(counts)
        jobs.append({"job": job.name, "state": job.state, "reprint_of": job.reprint_of, **counts})
    keys = ("expected", *REPORTED, "unreported")
    return {"jobs": jobs, "total": {key: total[key] for key in keys}}
