"""Reprints: exactly the pieces a job did not get into their envelopes, with the same codes.

For each job, the pieces whose current job it is and that are not inserted (diverted, damaged, missing,
or printed but never reported) go into one reprint job, ``J000123.R1`` (``.R2`` for the next round).
A piece already inserted can never be reprinted: its state does not allow it (see
:mod:`courrier.ledger.pieces`). When the share of pieces to reprint is above ``threshold`` of the
pieces the jobs expected, nothing is done unless the operator confirms: so many losses usually mean a
results file is missing, not that the letters are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from courrier.campaigns.store import get_campaign, require_frozen_template
from courrier.certificates.pki import Signer
from courrier.codes.keys import Keys
from courrier.db import write_transaction
from courrier.db.schema import job_pieces, pieces, print_jobs
from courrier.errors import ConflictError
from courrier.ledger.pieces import NOT_INSERTED
from courrier.production.compose_plan import campaign_folder
from courrier.production.compose_wave import ComposeSummary, compose_jobs
from courrier.production.jobs import add_job, current_pieces, get_job, list_jobs, reprint_name
from courrier.production.locks import step_lock
from courrier.production.profiles import InserterProfile, PrinterProfile
from courrier.result import Result

DEFAULT_THRESHOLD = 0.02


@dataclass
class ReprintPlan(Result):
    expected: int = 0
    to_reprint: int = 0
    jobs: dict[str, list[int]] = field(default_factory=dict)  # source job -> pieces

    @property
    def share(self) -> float:
        return self.to_reprint / self.expected if self.expected else 0.0


@dataclass
class Reprint(Result):
    """What a reprint did, one shape whether or not anything was to reprint: the plan, and the reprint
    jobs composed (``None`` when every piece of every printed job was inserted)."""

    plan: ReprintPlan
    composed: ComposeSummary | None


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
    out: Path | None,
    keys: Keys,
    signer: Signer | None = None,
    actor: str,
    now: dt.datetime,
    threshold: float = DEFAULT_THRESHOLD,
    client: Any,
    confirmed: bool = False,
    printer: PrinterProfile | None = None,
    inserter: InserterProfile | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_job_done: Callable[[str, int], None] | None = None,
) -> tuple[ReprintPlan, ComposeSummary | None]:
    """Reprint the campaign's pieces not inserted, on the machines ``printer`` and ``inserter`` describe
    (the settings' profiles, as for ``compose``; default: the built-in ones). ``on_start`` and
    ``on_job_done`` are told the progress, as ``compose_wave``'s."""
    with step_lock(engine, f"reprint:{campaign_name}"[:120], actor=actor, what=f"reprint of {campaign_name}"):
        return _reprint(
            engine,
            campaign_name,
            out=out,
            keys=keys,
            signer=signer,
            actor=actor,
            now=now,
            threshold=threshold,
            confirmed=confirmed,
            client=client,
            printer=printer,
            inserter=inserter,
            on_start=on_start,
            on_job_done=on_job_done,
        )


def _reprint(
    engine: Engine,
    campaign_name: str,
    *,
    out: Path | None,
    keys: Keys,
    signer: Signer | None = None,
    actor: str,
    now: dt.datetime,
    threshold: float,
    confirmed: bool,
    client: Any,
    printer: PrinterProfile | None,
    inserter: InserterProfile | None,
    on_start: Callable[[int, int], None] | None = None,
    on_job_done: Callable[[str, int], None] | None = None,
) -> tuple[ReprintPlan, ComposeSummary | None]:
    with engine.connect() as connection:
        campaign = get_campaign(connection, campaign_name)
        # Reprint jobs made by an earlier run that was interrupted before composing them: their pieces
        # are theirs now (no source job offers them again), so they are composed first, like compose
        # resumes a wave's planned jobs.
        resumed = list(
            connection.execute(
                select(print_jobs.c.id)
                .where(
                    print_jobs.c.campaign_id == campaign.id,
                    print_jobs.c.reprint_of.is_not(None),
                    print_jobs.c.state == "planned",
                )
                .order_by(print_jobs.c.name)
            ).scalars()
        )
    require_frozen_template(campaign)
    plan = plan_reprint(engine, campaign.id)
    if not plan.jobs and not resumed:
        return plan, None
    if plan.jobs and plan.share > threshold and not confirmed:
        raise ConflictError(
            f"{plan.to_reprint} of {plan.expected} pieces ({plan.share:.1%}) would be reprinted, above the"
            f" {threshold:.0%} threshold: check that every inserter results file was read,"
            " then confirm with --yes",
            code="reprint_threshold",
        )
    job_ids: list[int] = list(resumed)
    source = None
    with write_transaction(engine) as connection:
        # Next to the campaign's composed jobs (each source job's own folder) unless told otherwise.
        chosen = campaign_folder(connection, campaign, out) if out is not None else None
        for source_name, piece_ids in plan.jobs.items():
            source = get_job(connection, source_name)
            placement = _placement_of(connection, source.id)
            job_ids.append(
                add_job(
                    connection,
                    name=reprint_name(connection, source_name),
                    campaign_id=campaign.id,
                    template_version_id=campaign.template_version_id,
                    wave_id=source.wave_id,
                    domestic=source.domestic,
                    folder=str(chosen) if chosen else source.folder,
                    # The source job's order, so the reprint is presorted too.
                    placements=[
                        (p, placement[p][1]) for p in sorted(piece_ids, key=lambda p: placement[p][0])
                    ],
                    now=now,
                    reprint_of=source.id,
                )
            )
    folder = chosen or Path(campaign.output_folder or (source.folder if source else "."))
    summary = compose_jobs(
        engine,
        campaign,
        job_ids,
        ComposeSummary(campaign.name, None, folder),
        keys=keys,
        signer=signer,
        actor=actor,
        now=now,
        client=client,
        printer=printer,
        inserter=inserter,
        on_start=on_start,
        on_job_done=on_job_done,
    )
    return plan, summary


def _placement_of(connection: Any, job_id: int) -> dict[int, tuple[int, str]]:
    """Each piece of a job: (sequence, presort bundle)."""
    query = select(job_pieces.c.piece_id, job_pieces.c.sequence, job_pieces.c.bundle).where(
        job_pieces.c.job_id == job_id
    )
    return {
        int(piece_id): (int(sequence), str(bundle))
        for piece_id, sequence, bundle in connection.execute(query)
    }
