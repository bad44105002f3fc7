"""Reimbursement statements: what each establishment is owed for the vouchers it redeemed, and the one
SEPA file that pays them (``courrier vouchers statements --period FROM..TO``).

**Issuing** a period is one write transaction (:func:`issue_statements`): a run row for the period, then
per establishment one statement of the lines not yet on any statement —

- every redemption standing (not undone) and redeemed before the period's end (midnight, Luxembourg
  time, after its last day): the period's own, and any earlier one no statement holds yet (a period
  before the first run, say), so that nothing is ever left unpaid;
- every correction: a redemption on an earlier statement and undone since (before the period's end),
  its amount negative, naming the statement it corrects. Corrections are taken oldest first while the
  statement's total stays at or above zero; the others wait for the next statement (no statement asks an
  establishment for money).

An establishment with no such line gets no statement. Each line's redemption is UNIQUE per kind
(``statement_lines``), so no redemption is ever paid twice, and UNIQUE (period) makes a second run of a
period the first one: re-running issues nothing and answers with what was issued. Periods go forward:
one that starts on or before the last run's end is refused (``period_overlaps``), as is one not over yet
(``period_not_over``).

**Files** are made after the commit (:func:`write_run_files`), from the rows alone, into the run's folder:
``NUMBER.pdf`` and ``NUMBER.csv`` per statement, and ``sepa-FROM-TO.xml`` (none when the run pays
nothing). Their sha256 is recorded the
first time; a later run keeps a file that matches it, makes a missing or altered one again (the same
bytes: the composer is deterministic) and refuses (``statement_files_changed``) to write anything that
would differ from what was issued.

**An establishment's own statements** (:func:`establishment_statements`, :func:`statement_file`): its
staff download each one's PDF and CSV, the run folder's file when it matches what was issued, else made
again from the rows (the same bytes); another establishment's statement is ``unknown_statement``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, and_, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from courrier.db.bulk import bulk_insert
from courrier.db.schema import establishments, redemptions, statement_lines, statement_runs, statements
from courrier.db.transaction import write_transaction
from courrier.errors import ConflictError, InputFileError, NotFoundError
from courrier.ledger.events import record_event
from courrier.result import Result
from courrier.vouchers.sepa import Payer, credit_transfer
from courrier.vouchers.statement_files import (
    CORRECTION,
    REDEMPTION,
    Payee,
    Statement,
    StatementLine,
    statement_csv,
    statement_pdf,
)

# The ministry's days: a period's last day ends at midnight in Luxembourg.
LOCAL = ZoneInfo("Europe/Luxembourg")
_LINE_CHUNK = 5_000
_FILES = ((".pdf", "pdf_sha256"), (".csv", "csv_sha256"))
_TASK_STATEMENTS = 25
_IN_FLIGHT = 8


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-03-01..2026-03-31`` (both days included)."""
        first, dots, last = text.strip().partition("..")
        try:
            period = cls(dt.date.fromisoformat(first.strip()), dt.date.fromisoformat(last.strip()))
        except ValueError:
            period = None
        if not dots or period is None or period.last < period.first:
            raise InputFileError(
                f"{text!r} is not a period: give FROM..TO, two ISO days, e.g. 2026-03-01..2026-03-31",
                code="bad_period",
            )
        return period

    @property
    def end(self) -> dt.datetime:
        """The instant the period ends: midnight after its last day, Luxembourg time, in UTC."""
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), LOCAL).astimezone(dt.UTC)

    def __str__(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


@dataclass(frozen=True)
class StatementSummary(Result):
    number: str
    establishment_id: str
    lines: int
    total_cents: int


@dataclass
class RunSummary(Result):
    period: str
    issued: bool  # False: the period was issued before, nothing new
    issued_at: dt.datetime
    folder: Path
    sepa_file: Path | None  # None when the run pays nothing (a pain.001 holds one transfer at least)
    statements: list[StatementSummary]
    total_cents: int
    transfers_cents: int  # what the SEPA file pays: the statements above zero
    files_written: list[str] = field(default_factory=list)
    files_kept: int = 0


def issue_statements(
    engine: Engine,
    period: Period,
    *,
    payer: Payer,
    folder: Path,
    actor: str,
    now: dt.datetime,
    execution_date: dt.date | None = None,
    early: bool = False,
    client: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunSummary:
    """Issue the period's statements (once) and write their files (composed on the Dask ``client``'s
    workers when one is given); see the module docstring."""
    try:
        with write_transaction(engine) as connection:
            run_id, issued = _issue(connection, period, payer, folder, actor, now, execution_date, early)
    except IntegrityError:
        # The same period issued at the same moment by another process (PostgreSQL): its run stands.
        with engine.connect() as connection:
            found, issued = _run_of(connection, period), False
        if found is None:
            raise
        run_id = found
    summary = write_run_files(engine, run_id, client=client, progress=progress)
    summary.issued = issued
    return summary


def _run_of(connection: Connection, period: Period) -> int | None:
    found = connection.execute(
        select(statement_runs.c.id).where(
            statement_runs.c.period_from == period.first, statement_runs.c.period_to == period.last
        )
    ).scalar()
    return None if found is None else int(found)


def _issue(
    connection: Connection,
    period: Period,
    payer: Payer,
    folder: Path,
    actor: str,
    now: dt.datetime,
    execution_date: dt.date | None,
    early: bool,
) -> tuple[int, bool]:
    existing = _run_of(connection, period)
    if existing is not None:
        return existing, False
    today = now.astimezone(LOCAL).date()
    if period.last >= today and not early:
        raise ConflictError(
            f"the period {period} is not over: its statements are issued from"
            f" {period.last + dt.timedelta(days=1)} on",
            code="period_not_over",
            period=str(period),
        )
    last_end = connection.execute(select(func.max(statement_runs.c.period_to))).scalar()
    if last_end is not None and period.first <= last_end:
        # On PostgreSQL each statement sees what was committed before it: a run of this same period
        # committed by another process after the look above is that run, not an overlap.
        existing = _run_of(connection, period)
        if existing is not None:
            return existing, False
        raise ConflictError(
            f"the period {period} starts on or before the end of the last one issued ({last_end}):"
            " periods follow each other",
            code="period_overlaps",
            period=str(period),
            last=str(last_end),
        )
    run_id = _inserted_id(
        connection,
        insert(statement_runs).values(
            period_from=period.first,
            period_to=period.last,
            issued_at=now,
            issued_by=actor,
            execution_date=execution_date or _next_working_day(today),
            payer_name=payer.name,
            payer_iban=payer.iban,
            payer_bic=payer.bic,
            folder=str(folder.absolute()),
            statements=0,
            total_cents=0,
        ),
    )
    owed = _owed_lines(connection, period.end)
    payees = _payees(connection, sorted(owed))
    count = total = 0
    for index, establishment_id in enumerate(sorted(owed), start=1):
        lines = owed[establishment_id]
        number = f"{period.first:%Y%m%d}-{index:05d}"
        payee = payees[establishment_id]
        statement_id = _inserted_id(
            connection,
            insert(statements).values(
                run_id=run_id,
                number=number,
                establishment_id=establishment_id,
                payee_name=payee["name"],
                payee_iban=payee["iban"],
                payee_licence=payee["licence_number"],
                payee_address=payee["address"],
                payee_postcode=payee["postcode"],
                payee_locality=payee["commune"],
                payee_language=payee["language"],
                lines=len(lines),
                total_cents=sum(line["amount_cents"] for line in lines),
            ),
        )
        for start in range(0, len(lines), _LINE_CHUNK):
            chunk = lines[start : start + _LINE_CHUNK]
            bulk_insert(connection, statement_lines, chunk, constants={"statement_id": statement_id})
        count += 1
        total += sum(line["amount_cents"] for line in lines)
    connection.execute(
        update(statement_runs)
        .where(statement_runs.c.id == run_id)
        .values(statements=count, total_cents=total)
    )
    record_event(
        connection,
        "statements.issued",
        actor,
        at=now,
        details={"period": str(period), "statements": count, "total_cents": total},
    )
    return run_id, True


def _inserted_id(connection: Connection, statement: Any) -> int:
    key = connection.execute(statement).inserted_primary_key
    assert key is not None
    return int(key[0])


def _next_working_day(day: dt.date) -> dt.date:
    following = day + dt.timedelta(days=1)
    while following.weekday() >= 5:
        following += dt.timedelta(days=1)
    return following


def _owed_lines(connection: Connection, end: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """Per establishment, the lines of its next statement, numbered: redemptions, then corrections."""
    on_a_statement = exists().where(
        statement_lines.c.redemption_id == redemptions.c.id, statement_lines.c.kind == REDEMPTION
    )
    corrected = exists().where(
        statement_lines.c.redemption_id == redemptions.c.id, statement_lines.c.kind == CORRECTION
    )
    standing = connection.execute(
        select(
            redemptions.c.establishment_id,
            redemptions.c.id,
            redemptions.c.redeemed_at,
            redemptions.c.stay_from,
            redemptions.c.stay_to,
            redemptions.c.reference,
            redemptions.c.amount_cents,
        )
        .where(redemptions.c.redeemed_at < end, redemptions.c.undone_at.is_(None), ~on_a_statement)
        .order_by(redemptions.c.establishment_id, redemptions.c.redeemed_at, redemptions.c.id)
    )
    paid = statement_lines.alias("paid")
    undone = connection.execute(
        select(
            redemptions.c.establishment_id,
            redemptions.c.id,
            redemptions.c.undone_at,
            redemptions.c.stay_from,
            redemptions.c.stay_to,
            redemptions.c.reference,
            paid.c.amount_cents,
            statements.c.number,
        )
        .select_from(
            redemptions.join(
                paid, and_(paid.c.redemption_id == redemptions.c.id, paid.c.kind == REDEMPTION)
            ).join(statements, statements.c.id == paid.c.statement_id)
        )
        .where(redemptions.c.undone_at.is_not(None), redemptions.c.undone_at < end, ~corrected)
        .order_by(redemptions.c.establishment_id, redemptions.c.undone_at, redemptions.c.id)
    )
    owed: dict[str, list[dict[str, Any]]] = {}
    for establishment_id, rows in groupby(standing, key=lambda row: row.establishment_id):
        owed[establishment_id] = [
            _line(REDEMPTION, row.id, row.redeemed_at, row, row.amount_cents, "") for row in rows
        ]
    for establishment_id, corrections in groupby(undone, key=lambda row: row.establishment_id):
        lines = owed.setdefault(establishment_id, [])
        balance = sum(line["amount_cents"] for line in lines)
        for row in corrections:
            if balance - row.amount_cents < 0:
                break  # the rest waits for a statement with more to pay
            balance -= row.amount_cents
            lines.append(_line(CORRECTION, row.id, row.undone_at, row, -row.amount_cents, row.number))
    for lines in owed.values():
        for number, line in enumerate(lines, start=1):
            line["line"] = number
    return {establishment_id: lines for establishment_id, lines in owed.items() if lines}


def _line(
    kind: str, redemption_id: int, at: dt.datetime, row: Any, amount: int, corrects: str
) -> dict[str, Any]:
    return {
        "line": 0,
        "kind": kind,
        "redemption_id": redemption_id,
        "on_date": at.astimezone(LOCAL).date(),
        "stay_from": row.stay_from,
        "stay_to": row.stay_to,
        "reference": row.reference,
        "amount_cents": amount,
        "corrects": corrects,
    }


def _payees(connection: Connection, ids: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for row in connection.execute(select(establishments).where(establishments.c.id.in_(chunk))):
            found[row.id] = row._mapping
    return found


# --- files ---


def write_run_files(
    engine: Engine, run_id: int, *, client: Any = None, progress: Callable[[int, int], None] | None = None
) -> RunSummary:
    """Write the run's files that are missing or altered, the same bytes as when it was issued; the
    statements composed on the Dask ``client``'s workers when one is given."""
    with engine.connect() as connection:
        run = connection.execute(select(statement_runs).where(statement_runs.c.id == run_id)).one()
        made = list(_statements_of(connection, run))
    folder = Path(run.folder)
    folder.mkdir(parents=True, exist_ok=True)
    period = Period(run.period_from, run.period_to)
    summary = RunSummary(
        period=str(period),
        issued=False,
        issued_at=run.issued_at,
        folder=folder,
        sepa_file=folder / f"sepa-{period.first.isoformat()}-{period.last.isoformat()}.xml"
        if any(s.total_cents > 0 for s, _, _ in made)
        else None,
        statements=[
            StatementSummary(s.number, establishment_id, len(s.lines), s.total_cents)
            for s, establishment_id, _ in made
        ],
        total_cents=int(run.total_cents),
        transfers_cents=sum(s.total_cents for s, _, _ in made if s.total_cents > 0),
    )
    recorded: list[tuple[str, int, str]] = []  # (column, statement id, sha256) first written
    to_make = []
    for statement, _, row in made:
        if all(
            _kept(folder / f"{statement.number}{suffix}", row._mapping[column]) for suffix, column in _FILES
        ):
            summary.files_kept += len(_FILES)
        else:
            to_make.append((statement, row))
    done = len(made) - len(to_make)
    composed = _composed([s for s, _ in to_make], client)
    payer = Payer(run.payer_name, run.payer_iban, run.payer_bic)
    sepa_digest = None
    sepa_xml = None
    if summary.sepa_file is not None and not _kept(summary.sepa_file, run.sepa_sha256):
        # Made while the workers compose the first statements (written after them, as before).
        sepa_xml = credit_transfer(
            payer,
            [statement for statement, _, _ in made],
            message_id=f"COURRIER-{period.first:%Y%m%d}-{period.last:%Y%m%d}",
            created_at=run.issued_at,
            execution_date=run.execution_date,
        )
    for (statement, row), files in zip(to_make, composed, strict=True):
        for (suffix, column), data in zip(_FILES, files, strict=True):
            issued = row._mapping[column]
            digest = _write_once(folder / f"{statement.number}{suffix}", issued, data, summary)
            if issued is None:
                recorded.append((column, row.id, digest))
        done += 1
        if progress is not None:
            progress(done, len(made))
    if summary.sepa_file is not None:
        sepa_digest = run.sepa_sha256
        if sepa_xml is not None:
            sepa_digest = _write_once(summary.sepa_file, run.sepa_sha256, sepa_xml, summary)
        else:
            summary.files_kept += 1
    with write_transaction(engine) as connection:
        for column, statement_id, digest in recorded:
            connection.execute(
                update(statements)
                .where(statements.c.id == statement_id, statements.c[column].is_(None))
                .values({column: digest})
            )
        if sepa_digest is not None:
            connection.execute(
                update(statement_runs)
                .where(statement_runs.c.id == run_id, statement_runs.c.sepa_sha256.is_(None))
                .values(sepa_sha256=sepa_digest)
            )
    return summary


@dataclass(frozen=True)
class IssuedStatement(Result):
    number: str
    period_from: dt.date
    period_to: dt.date
    issued_at: dt.datetime
    lines: int
    total_cents: int


def establishment_statements(connection: Connection, establishment_id: str) -> list[IssuedStatement]:
    """The establishment's statements, the newest period first."""
    rows = connection.execute(
        select(
            statements.c.number,
            statement_runs.c.period_from,
            statement_runs.c.period_to,
            statement_runs.c.issued_at,
            statements.c.lines,
            statements.c.total_cents,
        )
        .join(statement_runs, statement_runs.c.id == statements.c.run_id)
        .where(statements.c.establishment_id == establishment_id)
        .order_by(statement_runs.c.period_from.desc(), statements.c.number)
    )
    return [
        IssuedStatement(
            row.number, row.period_from, row.period_to, row.issued_at, row.lines, int(row.total_cents)
        )
        for row in rows
    ]


def statement_file(connection: Connection, establishment_id: str, number: str, suffix: str) -> bytes:
    """The statement's file (``suffix`` ``.pdf`` or ``.csv``) as it was issued: the run folder's when it
    matches its recorded sha256, else made again from the rows (``statement_files_changed`` if that
    would differ). ``unknown_statement`` for a number that is not this establishment's."""
    column = dict(_FILES).get(suffix)
    found = (
        connection.execute(
            select(statements, statement_runs.c.folder)
            .join(statement_runs, statement_runs.c.id == statements.c.run_id)
            .where(statements.c.number == number, statements.c.establishment_id == establishment_id)
        ).one_or_none()
        if column is not None
        else None
    )
    if found is None or column is None:
        raise NotFoundError(f"no statement {number!r} of this establishment", code="unknown_statement")
    recorded = found._mapping[column]
    path = Path(found.folder) / f"{number}{suffix}"
    if recorded is not None and path.is_file():
        data = path.read_bytes()
        if _sha256(data) == recorded:
            return data
    run = connection.execute(select(statement_runs).where(statement_runs.c.id == found.run_id)).one()
    lines = connection.execute(
        select(statement_lines)
        .where(statement_lines.c.statement_id == found.id)
        .order_by(statement_lines.c.line)
    )
    made = _statement(found, run, tuple(_statement_line(line) for line in lines))
    if suffix == ".csv":
        data = statement_csv(made)
    else:
        out = io.BytesIO()
        statement_pdf(made, out)
        data = out.getvalue()
    if recorded is not None and _sha256(data) != recorded:
        raise ConflictError(
            f"{number}{suffix} would now be made differently from when it was issued",
            code="statement_files_changed",
            file=f"{number}{suffix}",
        )
    return data


def _statement_line(line: Any) -> StatementLine:
    return StatementLine(
        line.line,
        line.kind,
        line.redemption_id,
        line.on_date,
        line.stay_from,
        line.stay_to,
        line.reference,
        line.amount_cents,
        line.corrects,
    )


def _statement(row: Any, run: Any, lines: tuple[StatementLine, ...]) -> Statement:
    payee = Payee(
        establishment_id=row.establishment_id,
        name=row.payee_name,
        iban=row.payee_iban,
        licence=row.payee_licence,
        street=row.payee_address,
        postcode=row.payee_postcode,
        locality=row.payee_locality,
        language=row.payee_language,
    )
    return Statement(row.number, payee, run.period_from, run.period_to, run.issued_at, lines)


def _statements_of(connection: Connection, run: Any) -> Iterable[tuple[Statement, str, Any]]:
    rows = list(
        connection.execute(select(statements).where(statements.c.run_id == run.id).order_by(statements.c.id))
    )
    lines = connection.execute(
        select(statement_lines)
        .join(statements, statements.c.id == statement_lines.c.statement_id)
        .where(statements.c.run_id == run.id)
        .order_by(statement_lines.c.statement_id, statement_lines.c.line)
    )
    by_statement = {
        statement_id: tuple(_statement_line(line) for line in group)
        for statement_id, group in groupby(lines, key=lambda line: line.statement_id)
    }
    for row in rows:
        yield _statement(row, run, by_statement.get(row.id, ())), row.establishment_id, row


def statement_files(statements: Sequence[Statement]) -> list[tuple[bytes, bytes]]:
    """Each statement's PDF and CSV (a Dask task: pure, statements in, bytes out)."""
    made = []
    for statement in statements:
        out = io.BytesIO()
        statement_pdf(statement, out)
        made.append((out.getvalue(), statement_csv(statement)))
    return made


def _composed(to_make: Sequence[Statement], client: Any) -> Iterator[tuple[bytes, bytes]]:
    """The statements' files in order: composed here, or on the Dask ``client``'s workers in tasks of
    :data:`_TASK_STATEMENTS` statements (a few tasks in flight, so memory stays flat; the first ones
    submitted at once, so the workers start while the caller goes on)."""
    if client is None or len(to_make) <= _TASK_STATEMENTS:
        return (files for statement in to_make for files in statement_files([statement]))
    batches = [
        to_make[start : start + _TASK_STATEMENTS] for start in range(0, len(to_make), _TASK_STATEMENTS)
    ]
    futures = [client.submit(statement_files, batch, pure=False) for batch in batches[:_IN_FLIGHT]]
    return _results(client, batches, futures)


def _results(
    client: Any, batches: list[Sequence[Statement]], futures: list[Any]
) -> Iterator[tuple[bytes, bytes]]:
    for index in range(len(batches)):
        if index + _IN_FLIGHT < len(batches):
            futures.append(client.submit(statement_files, batches[index + _IN_FLIGHT], pure=False))
        yield from futures[index].result()
        futures[index] = None


def _kept(path: Path, recorded: str | None) -> bool:
    return recorded is not None and path.is_file() and _sha256(path.read_bytes()) == recorded


def _write_once(path: Path, recorded: str | None, data: bytes, summary: RunSummary) -> str:
    """Write ``data`` at ``path`` (atomically) unless it differs from what was issued; its sha256."""
    digest = _sha256(data)
    if recorded is not None and digest != recorded:
        raise ConflictError(
            f"{path.name} would now be made differently from when it was issued (sha256 {recorded[:12]}…):"
            " an issued statement never changes; nothing was written",
            code="statement_files_changed",
            file=path.name,
        )
    if _kept(path, recorded):
        summary.files_kept += 1
        return digest
    # A partial file of its own: two runs of one period at once (the second only restores the files)
    # would otherwise replace each other's partial file, and one rename would find none.
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".partial")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(partial, path)
    summary.files_written.append(path.name)
    return digest


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
