"""Reprints: exactly the pieces a job did not get into their envelopes, with the same codes.

For each job, the pieces whose current job it is and that are not inserted (diverted, damaged, missing,
or printed but never reported) go into one reprint job, ``J000123.R1`` (``.R2`` for the next round).
A piece already inserted can never be reprinted: its state does not allow it (see
:mod:`courrier.production.states`). When the share of pieces to reprint is above ``threshold`` of the
pieces the jobs expected, nothing is done unless the operator confirms: so many losses usually mean a
results file is missing, not that the letters are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from courrier.campaigns.store import get_campaign
from courrier.codes.keys import Keys
from courrier.db.bulk import bulk_insert
from courrier.db.schema import job_pieces, pieces, print_jobs
from courrier.errors import ConflictError
from courrier.production.compose_wave import ComposeSummary, compose_jobs
from courrier.production.jobs import current_pieces, list_jobs, reprint_name
from courrier.production.states import NOT_INSERTED

DEFAULT_THRESHOLD = 0.02


@dataclass
class ReprintPlan:
    expected: int = 0
    to_reprint: int = 0
    jobs: dict[str, list[int]] = field(default_factory=dict)  # source job -> pieces

    @property
    def share(self) -> float:
        return self.to_reprint / self.expected if self.expected else 0.0


def plan_reprint(engine: Engine, campaign_id: int) -> ReprintPlan:
    plan = ReprintPlan()
    with engine.connect() as connection:
        for job in list_jobs(connection, campaign_id=campaign_id):
            if job.state not in ("printed", "inserted"):
                continue
            plan.expected += job.pieces
            candidates = current_pieces(connection, job.id)
            if not candidates:
                continue
            states = dict(
                connection.execute(
                    select(pieces.c.id, pieces.c.state).where(pieces.c.id.in_(candidates))
                ).all()
            )
            lost = [piece_id for piece_id in candidates if states.get(piece_id) in NOT_INSERTED]
            if lost:
                plan.jobs[job.name] = lost
                plan.to_reprint += len(lost)
    return plan


def reprint(
    engine: Engine,
    campaign_name: str,
    *,
    out: Path,
    keys: Keys,
    actor: str,
    now: dt.datetime,
    threshold: float = DEFAULT_THRESHOLD,
    confirmed: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
) -> tuple[ReprintPlan, ComposeSummary | None]:
    with engine.connect() as connection:
        campaign = get_campaign(connection, campaign_name)
    plan = plan_reprint(engine, campaign.id)
    if not plan.jobs:
        return plan, None
    if plan.share > threshold and not confirmed:
        raise ConflictError(
            f"{plan.to_reprint} of {plan.expected} pieces ({plan.share:.1%}) would be reprinted, above the"
            f" {threshold:.0%} threshold: check that every inserter results file was read,"
            " then confirm with --yes",
            code="reprint_threshold",
        )
    job_ids: list[int] = []
    with engine.begin() as connection:
        for source_name, piece_ids in plan.jobs.items():
            source = next(job for job in list_jobs(connection, name=source_name))
            name = reprint_name(connection, source_name)
            wave_id = connection.execute(
                select(print_jobs.c.wave_id).where(print_jobs.c.id == source.id)
            ).scalar()
            inserted = connection.execute(
                print_jobs.insert().values(
                    name=name,
                    campaign_id=campaign.id,
                    wave_id=wave_id,
                    reprint_of=source.id,
                    template_version_id=campaign.template_version_id,
                    domestic=source.domestic,
                    state="planned",
                    pieces=len(piece_ids),
                    sheets=0,
                    pages=0,
                    failed=0,
                    folder=source.folder,
                    created_at=now,
                    updated_at=now,
                )
            )
            assert inserted.inserted_primary_key is not None
            job_id = inserted.inserted_primary_key[0]
            order = _sequence_of(connection, source.id)
            ordered = sorted(piece_ids, key=lambda piece_id: order[piece_id])
            bulk_insert(
                connection,
                job_pieces,
                [
                    {
                        "piece_id": piece_id,
                        "sequence": n,
                        "bundle": bundle_of(connection, source.id, piece_id),
                    }
                    for n, piece_id in enumerate(ordered, start=1)
                ],
                constants={"job_id": job_id},
            )
            job_ids.append(int(job_id))
    wave = _wave_number(engine, job_ids[0])
    summary = compose_jobs(
        engine,
        campaign,
        job_ids,
        wave,
        out=out,
        keys=keys,
        actor=actor,
        now=now,
        scheduler=scheduler,
        workers=workers,
    )
    return plan, summary


def _sequence_of(connection: Any, job_id: int) -> dict[int, int]:
    query = select(job_pieces.c.piece_id, job_pieces.c.sequence).where(job_pieces.c.job_id == job_id)
    return {int(piece_id): int(sequence) for piece_id, sequence in connection.execute(query)}


def bundle_of(connection: Any, job_id: int, piece_id: int) -> str:
    query = select(job_pieces.c.bundle).where(
        job_pieces.c.job_id == job_id, job_pieces.c.piece_id == piece_id
    )
    return str(connection.execute(query).scalar_one())


def _wave_number(engine: Engine, job_id: int) -> int:
    from courrier.db.schema import waves

    with engine.connect() as connection:
        number = connection.execute(
            select(func.coalesce(waves.c.number, 0))
            .select_from(print_jobs)
            .outerjoin(waves, waves.c.id == print_jobs.c.wave_id)
            .where(print_jobs.c.id == job_id)
        ).scalar()
    return int(number or 0)
