"""Retention: a campaign's personal data removed a configured time after the campaign ended, its counts kept.

A campaign *ends* on the latest day anything could still happen with it: the last day a code is valid
(its own ``valid_until``, or the campaign's fixed one), the last slot, the last dose given. Its
personal data may be purged ``COURRIER_PURGE_AFTER_DAYS`` days later; before that the purge is refused
(``purge_too_early``) with the day it becomes possible.

What goes, in one transaction: every row that ties a person to the campaign or says what they did —
codes and their uses, pieces, the pieces in print jobs, the inserter's records, bookings (with their
health answers), check-ins, vaccination records, voucher redemptions, re-send and waiting-list
requests, and the events naming a piece or a code or telling what a person did (``PERSONAL_TABLES``).
After the commit, the print files that hold names and addresses (``JOB.pdf``, ``JOB.manifest.csv``,
``JOB.inserter.csv``, ``JOB.results.csv``) are deleted; the job tickets (counts only) stay.

What stays: the campaign, its waves, slots and print jobs (counts, no person), the events about the
campaign itself (``campaign.*``, ``job.*``), and ``campaign_stats``: the aggregates, filled in the same
transaction before anything is deleted (:func:`campaign_aggregates` gives the same cells before and
after). The register (``persons``) is not the campaign's: it is the print shop's copy of the
population register, replaced by each import, and once the campaign's rows are gone nothing links a
person to it. The audit log stays too: it names staff and subjects by id, and is kept as the record
of who looked at what.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, and_, case, delete, func, not_, or_, select, update

from courrier.campaigns.store import campaign_id
from courrier.db.schema import (
    bookings,
    campaign_stats,
    campaigns,
    checkins,
    code_uses,
    codes,
    events,
    inserter_results,
    job_pieces,
    letter_requests,
    operator_task_files,
    operator_tasks,
    pieces,
    print_jobs,
    redemptions,
    slots,
    vaccinations,
    waves,
)
from courrier.db.transaction import write_transaction
from courrier.errors import ConflictError
from courrier.ledger.events import record_event

DEFAULT_PURGE_AFTER_DAYS = 90

# Every table whose rows tie a person to a campaign, in the order they are deleted (children first).
# tests/production/test_purge.py fails when a table with a person, piece or code column is not here.
PERSONAL_TABLES: tuple[Table, ...] = (
    redemptions,
    vaccinations,
    checkins,
    bookings,
    letter_requests,
    code_uses,
    events,
    inserter_results,
    job_pieces,
    pieces,
    codes,
)

# Events about the campaign as a whole (created, extended, planned...) and its jobs: no person in them.
_KEPT_EVENT_PREFIXES = ("campaign.", "job.")

# A job's files that hold names, addresses or the persons' ids; the ticket holds counts only.
_PERSONAL_FILE_SUFFIXES = (".pdf", ".manifest.csv", ".inserter.csv", ".results.csv")


@dataclass(frozen=True, order=True)
class Cell:
    """One count of the aggregates: ``measure`` in a cell of day, wave, place (centre or job), dose and
    ``detail`` (a state, a product, an event type). Fields that do not apply are None."""

    measure: str
    day: dt.date | None
    wave: int | None
    place: str | None
    dose: int | None
    detail: str
    count: int = field(compare=True)


@dataclass
class Purge:
    campaign: str
    ended_on: dt.date
    purge_from: dt.date
    dry_run: bool
    already_purged_at: dt.datetime | None = None
    rows: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    cells: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "campaign": self.campaign,
            "ended_on": self.ended_on.isoformat(),
            "purge_from": self.purge_from.isoformat(),
            "dry_run": self.dry_run,
            "already_purged_at": self.already_purged_at.isoformat() if self.already_purged_at else None,
            "rows": self.rows,
            "files": self.files,
            "aggregate_cells": self.cells,
        }


def purge_campaign(
    engine: Engine,
    campaign: str,
    *,
    after_days: int,
    actor: str,
    now: dt.datetime,
    dry_run: bool = False,
) -> Purge:
    """Purge ``campaign``'s personal data (or, with ``dry_run``, say what would go); refused with
    ``purge_too_early`` before ``after_days`` days past its end. Purging twice does nothing."""
    with write_transaction(engine) as connection:
        cid = campaign_id(connection, campaign)
        purged_at = connection.execute(select(campaigns.c.purged_at).where(campaigns.c.id == cid)).scalar()
        ended = campaign_end(connection, cid)
        result = Purge(campaign, ended, ended + dt.timedelta(days=after_days), dry_run, purged_at)
        if purged_at is not None:
            return result
        if now.date() < result.purge_from:
            raise ConflictError(
                f"campaign {campaign} ended on {ended}: its personal data can be purged from"
                f" {result.purge_from} on ({after_days} days later, COURRIER_PURGE_AFTER_DAYS), not"
                f" on {now.date()}",
                code="purge_too_early",
                campaign=campaign,
                purge_from=result.purge_from.isoformat(),
            )
        result.rows = {table.name: _count(connection, table, cid) for table in PERSONAL_TABLES}
        result.files = [str(path) for path in _personal_files(connection, cid)]
        cells = campaign_aggregates(connection, cid)
        result.cells = len(cells)
        if dry_run:
            connection.rollback()
            return result
        _store(connection, cid, cells)
        for table in PERSONAL_TABLES:
            _delete(connection, table, cid)
        _forget_tasks(connection, cid)
        connection.execute(update(campaigns).where(campaigns.c.id == cid).values(purged_at=now))
        record_event(
            connection,
            "campaign.purged",
            actor,
            campaign_id=cid,
            details={"rows": result.rows, "files": len(result.files), "aggregate_cells": len(cells)},
            at=now,
        )
    for name in result.files:  # after the commit: a rolled-back purge leaves the files in place
        Path(name).unlink(missing_ok=True)
    return result


def campaign_end(connection: Connection, cid: int) -> dt.date:
    """The last day anything could happen with the campaign: a code valid, a slot, a dose given."""
    fixed = connection.execute(
        select(campaigns.c.valid_until, campaigns.c.created_at).where(campaigns.c.id == cid)
    ).one()
    days = [fixed.valid_until, fixed.created_at.date()]
    days.append(
        connection.execute(select(func.max(codes.c.valid_until)).where(codes.c.campaign_id == cid)).scalar()
    )
    for column, table in ((slots.c.ends_at, slots), (vaccinations.c.given_at, vaccinations)):
        last = connection.execute(select(func.max(column)).where(table.c.campaign_id == cid)).scalar()
        days.append(last.date() if last is not None else None)
    ended: dt.date = max(day for day in days if day is not None)
    return ended


def campaign_aggregates(connection: Connection, cid: int) -> list[Cell]:
    """The campaign's counts, sorted: from the live tables until it is purged, from ``campaign_stats``
    after (the same cells)."""
    columns = ("measure", "day", "wave", "place", "dose", "detail", "count")
    stored = connection.execute(
        select(*(campaign_stats.c[name] for name in columns)).where(campaign_stats.c.campaign_id == cid)
    ).all()
    if stored:
        return sorted(Cell(*row) for row in stored)
    counted: Counter[tuple[str, dt.date | None, int | None, str | None, int | None, str]] = Counter()
    for query in _measures(cid):
        for row in connection.execute(query.execution_options(yield_per=10_000)):
            measure, day, wave, place, dose, detail = row
            counted[(measure, _day(day), wave, place, dose, str(detail))] += 1
    return sorted(Cell(*key, count) for key, count in counted.items())


def _day(value: dt.datetime | dt.date | None) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value


def _measures(cid: int) -> Iterator[Select[Any]]:
    """One query per measure, each row one thing counted: (measure, day, wave, place, dose, detail)."""
    from sqlalchemy import literal, null

    def label(name: str):  # type: ignore[no-untyped-def]
        return literal(name).label("measure")

    # Letters by wave and state (re-issues have no wave).
    yield (
        select(label("letters"), null(), waves.c.number, null(), null(), pieces.c.state)
        .select_from(pieces)
        .outerjoin(waves, waves.c.id == pieces.c.wave_id)
        .where(pieces.c.campaign_id == cid)
    )
    yield select(label("codes"), null(), null(), null(), null(), codes.c.status).where(
        codes.c.campaign_id == cid
    )
    # Letters per print job and destination country (what the posting statement counts).
    yield (
        select(
            label("job_letters"),
            null(),
            null(),
            print_jobs.c.name,
            null(),
            func.coalesce(job_pieces.c.country, ""),
        )
        .join(print_jobs, print_jobs.c.id == job_pieces.c.job_id)
        .where(print_jobs.c.campaign_id == cid)
    )
    yield (
        select(label("inserter"), null(), null(), print_jobs.c.name, null(), inserter_results.c.status)
        .join(print_jobs, print_jobs.c.id == inserter_results.c.job_id)
        .where(print_jobs.c.campaign_id == cid, inserter_results.c.outcome == "applied")
    )
    # Bookings per slot day, centre, dose and state; check-ins per day, centre, dose, booked or walk-in.
    yield (
        select(
            label("bookings"), slots.c.starts_at, null(), slots.c.centre_id, bookings.c.dose, bookings.c.state
        )
        .join(slots, slots.c.id == bookings.c.slot_id)
        .where(bookings.c.campaign_id == cid)
    )
    walk_in = case((checkins.c.walk_in_dose.is_(None), "booked"), else_="walk_in")
    yield select(
        label("checkins"), checkins.c.checked_in_at, null(), checkins.c.centre_id, checkins.c.dose, walk_in
    ).where(checkins.c.campaign_id == cid)
    # Doses given per day, centre, dose number and product: the current records (a correction replaces).
    corrected = select(vaccinations.c.supersedes).where(vaccinations.c.supersedes.is_not(None))
    yield select(
        label("vaccinations"),
        vaccinations.c.given_at,
        null(),
        vaccinations.c.centre_id,
        vaccinations.c.dose_number,
        vaccinations.c.product,
    ).where(vaccinations.c.campaign_id == cid, vaccinations.c.id.not_in(corrected))
    # Vouchers redeemed per day and establishment, standing or undone.
    undone = case((redemptions.c.undone_at.is_(None), "redeemed"), else_="undone")
    yield select(
        label("redemptions"),
        redemptions.c.redeemed_at,
        null(),
        redemptions.c.establishment_id,
        null(),
        undone,
    ).where(redemptions.c.campaign_id == cid)
    yield select(
        label("requests"),
        letter_requests.c.created_at,
        null(),
        null(),
        null(),
        letter_requests.c.kind + literal(".") + letter_requests.c.state,
    ).where(letter_requests.c.campaign_id == cid)
    # The event counts per day and type.
    yield select(label("events"), events.c.at, null(), null(), null(), events.c.type).where(
        _campaign_events(cid)
    )


def _campaign_events(cid: int):  # type: ignore[no-untyped-def]
    return or_(
        events.c.campaign_id == cid,
        events.c.piece_id.in_(select(pieces.c.id).where(pieces.c.campaign_id == cid)),
        events.c.code_id.in_(select(codes.c.id).where(codes.c.campaign_id == cid)),
    )


def _where(table: Table, cid: int):  # type: ignore[no-untyped-def]
    """The campaign's rows of a personal table."""
    if table is events:
        kept = or_(*(events.c.type.startswith(prefix) for prefix in _KEPT_EVENT_PREFIXES))
        return and_(
            _campaign_events(cid),
            or_(events.c.piece_id.is_not(None), events.c.code_id.is_not(None), not_(kept)),
        )
    if table is code_uses:
        return code_uses.c.code_id.in_(select(codes.c.id).where(codes.c.campaign_id == cid))
    if table in (job_pieces, inserter_results):
        return table.c.job_id.in_(select(print_jobs.c.id).where(print_jobs.c.campaign_id == cid))
    return table.c.campaign_id == cid


def _count(connection: Connection, table: Table, cid: int) -> int:
    return int(
        connection.execute(select(func.count()).select_from(table).where(_where(table, cid))).scalar_one()
    )


def _delete(connection: Connection, table: Table, cid: int) -> None:
    # Rows of these tables point at rows of the same table (a correction, a re-issue): no order of
    # deletion satisfies both on a database that checks each row, so the links go first.
    if table is vaccinations:
        connection.execute(update(vaccinations).where(_where(vaccinations, cid)).values(supersedes=None))
    if table is pieces:
        connection.execute(update(pieces).where(_where(pieces, cid)).values(reissue_of=None, code_id=None))
    connection.execute(delete(table).where(_where(table, cid)))


def _store(connection: Connection, cid: int, cells: Iterable[Cell]) -> None:
    rows = [
        {
            "campaign_id": cid,
            "measure": cell.measure,
            "day": cell.day,
            "wave": cell.wave,
            "place": cell.place,
            "dose": cell.dose,
            "detail": cell.detail,
            "count": cell.count,
        }
        for cell in cells
    ]
    if rows:
        connection.execute(campaign_stats.insert(), rows)


def _personal_files(connection: Connection, cid: int) -> Iterator[Path]:
    for name, folder in connection.execute(
        select(print_jobs.c.name, print_jobs.c.folder).where(print_jobs.c.campaign_id == cid)
    ):
        for suffix in _PERSONAL_FILE_SUFFIXES:
            path = Path(folder) / f"{name}{suffix}"
            if path.exists():
                yield path


def _forget_tasks(connection: Connection, cid: int) -> None:
    """The campaign's tasks from the operator's page keep who started what and how it ended, not what
    their letters said: a compose's answer lists its failed letters with the composer's message (which
    can quote a name), a results file is the inserter's list of pieces."""
    ids = select(operator_tasks.c.id).where(operator_tasks.c.campaign_id == cid)
    connection.execute(delete(operator_task_files).where(operator_task_files.c.task_id.in_(ids)))
    connection.execute(update(operator_tasks).where(operator_tasks.c.campaign_id == cid).values(result=None))
