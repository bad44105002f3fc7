"""The files exchanged with an envelope inserter, and the mark it reads on every sheet.

**Inserter control file** (``JOB.inserter.csv``, written by courrier, read by the inserter): one record per
envelope, in the order the sheets come off the printer::

    piece_id,sequence,sheets,inserts,divert
    4711,1,2,0,0

``sheets`` is the number of sheets to collate into the envelope, ``inserts`` the number of pre-printed
inserts to add from the feeders (0 here), ``divert`` 1 to divert the envelope to the outsort bin instead
of sealing it (a piece withdrawn after it was printed).

**Inserter results file** (written by the inserter, read by ``courrier inserter results``): one record per
envelope it handled::

    piece_id,status,time,machine
    4711,inserted,2026-03-12T08:15:02Z,INS-2

with status ``inserted``, ``diverted``, ``damaged`` or ``missing``.

**Sheet mark** (a Data Matrix the inserter's camera reads on each sheet, in a margin zone clear of the
window): ``C1|<job id>|<sequence in job, 6 digits>|<sheet i>/<sheets n>|<E on the last sheet of the
piece, else C>`` — e.g. ``C1|J000123|000045|2/2|E``. ``C1`` is the format version. From it the inserter
knows which piece a sheet belongs to and when a set is complete; a missing or out-of-order sheet stops the
machine instead of putting someone's second page in another's envelope.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from courrier.errors import InputFileError

CONTROL_COLUMNS = ("piece_id", "sequence", "sheets", "inserts", "divert")
RESULT_COLUMNS = ("piece_id", "status", "time", "machine")
RESULT_STATUSES = ("inserted", "diverted", "damaged", "missing")
MARK_VERSION = "C1"


@dataclass(frozen=True)
class Envelope:
    piece_id: int
    sequence: int
    sheets: int
    inserts: int = 0
    divert: bool = False


@dataclass(frozen=True)
class InserterResult:
    line: int
    piece_id: int
    status: str
    time: str
    machine: str


def sheet_mark(job_id: str, sequence: int, sheet: int, sheets: int) -> str:
    """The Data Matrix text for sheet ``sheet`` (from 1) of ``sheets`` of the piece at ``sequence``."""
    end = "E" if sheet == sheets else "C"
    return f"{MARK_VERSION}|{job_id}|{sequence:06d}|{sheet}/{sheets}|{end}"


def parse_sheet_mark(text: str) -> tuple[str, int, int, int, bool]:
    """(job id, sequence, sheet, sheets, last sheet) from a sheet mark."""
    version, job_id, sequence, position, end = text.split("|")
    if version != MARK_VERSION:
        raise ValueError(f"unknown sheet mark version {version!r}")
    sheet, sheets = position.split("/")
    return job_id, int(sequence), int(sheet), int(sheets), end == "E"


def write_control_file(path: Path, envelopes: Iterable[Envelope]) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(CONTROL_COLUMNS)
        for envelope in envelopes:
            writer.writerow(
                [
                    envelope.piece_id,
                    envelope.sequence,
                    envelope.sheets,
                    envelope.inserts,
                    int(envelope.divert),
                ]
            )


def read_control_file(path: Path) -> list[Envelope]:
    rows = _read_csv(path, CONTROL_COLUMNS)
    return [
        Envelope(
            int(row["piece_id"]),
            int(row["sequence"]),
            int(row["sheets"]),
            int(row["inserts"]),
            row["divert"] == "1",
        )
        for _, row in rows
    ]


def simulate_results(
    envelopes: Iterable[Envelope],
    *,
    damage: float = 0.0,
    divert: float = 0.0,
    miss: float = 0.0,
    seed: int = 1,
    machine: str = "SIM-1",
    started_at: dt.datetime | None = None,
) -> Iterator[InserterResult]:
    """What an inserter might report for ``envelopes``: most inserted, some damaged, diverted or missing.

    Envelopes flagged ``divert`` in the control file are always diverted. Times advance by a second per
    envelope (an inserter runs at about 3,600 envelopes an hour).
    """
    rnd = random.Random(seed)
    clock = started_at or dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)
    for line, envelope in enumerate(envelopes, start=2):
        roll = rnd.random()
        if envelope.divert or roll < divert:
            status = "diverted"
        elif roll < divert + damage:
            status = "damaged"
        elif roll < divert + damage + miss:
            status = "missing"
        else:
            status = "inserted"
        clock += dt.timedelta(seconds=1)
        yield InserterResult(line, envelope.piece_id, status, clock.strftime("%Y-%m-%dT%H:%M:%SZ"), machine)


def write_results_file(path: Path, results: Iterable[InserterResult]) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(RESULT_COLUMNS)
        for result in results:
            writer.writerow([result.piece_id, result.status, result.time, result.machine])


def _read_csv(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        file = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror}", code="unreadable_file") from error
    with file:
        reader = csv.DictReader(file)
        missing = [name for name in columns if name not in (reader.fieldnames or [])]
        if missing:
            raise InputFileError(f"{path}: column(s) missing: {', '.join(missing)}", code="missing_columns")
        for row in reader:
            yield reader.line_num, row
