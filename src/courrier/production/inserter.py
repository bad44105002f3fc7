"""The files exchanged with an envelope inserter, and the mark it reads on every sheet.

**Inserter control file** (``JOB.inserter.csv``, written by courrier, read by the inserter): a header
record, the column names, one record per envelope in the order the sheets come off the printer, and a
trailer record (each of H and T only when the inserter profile asks for it)::

    H,J000123,2,3
    piece_id,sequence,sheets,inserts,divert,bundle_break,tray_break
    4711,1,2,0,0,1,1
    4712,2,1,0,0,0,0
    T,J000123,2,3,5d41402abc4b2a76b9719d911017c592...

``H,<job>,<envelopes>,<sheets>``; ``T,<job>,<envelopes>,<sheets>,<sha256>`` where the sha256 is of the
column line and the records exactly as written (CRLF line ends, as the csv module writes them): an
inserter, or ``read_control_file``, can tell a file cut short or altered. ``sheets`` is the number of
sheets to collate into the envelope, ``inserts`` the number of pre-printed inserts to add from the feeders
(0 here), ``divert`` 1 to divert the envelope to the outsort bin instead of sealing it (a piece withdrawn
after it was printed); ``bundle_break`` 1 on the first envelope of a postal bundle (a new postcode, or a
new country abroad) and ``tray_break`` 1 on the first of each tray (every ``tray_pieces`` envelopes of
the inserter profile, and at every bundle that would not fit in what is left of the tray).

**Inserter results file** (written by the inserter, read by ``courrier inserter results``): one record per
envelope it handled::

    piece_id,status,time,machine
    4711,inserted,2026-03-12T08:15:02Z,INS-2

with status ``inserted``, ``diverted``, ``damaged`` or ``missing``.

**Sheet mark** (a Data Matrix the inserter's camera reads on each sheet, in a margin zone clear of the
window and folds): its layout comes from the inserter profile (:mod:`courrier.production.profiles`); the
built-in one is ``C1|<job id>|<sequence in job, 6 digits>|<sheet i>/<sheets n>|<E on the last sheet of
the piece, else C>`` — e.g. ``C1|J000123|000045|2/2|E``. ``C1`` is the format version. From it the inserter
knows which piece a sheet belongs to and when a set is complete; a missing or out-of-order sheet stops the
machine instead of putting someone's second page in another's envelope.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from courrier.errors import InputFileError

CONTROL_COLUMNS = ("piece_id", "sequence", "sheets", "inserts", "divert", "bundle_break", "tray_break")
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
    bundle_break: bool = False
    tray_break: bool = False


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


def break_flags(bundles: list[str], tray_pieces: int) -> list[tuple[bool, bool]]:
    """(bundle break, tray break) for envelopes in order, given each one's postal bundle."""
    sizes: dict[int, int] = {}
    start = 0
    for index in range(1, len(bundles) + 1):
        if index == len(bundles) or bundles[index] != bundles[start]:
            sizes[start] = index - start
            start = index
    flags = []
    in_tray = 0
    for index, bundle in enumerate(bundles):
        new_bundle = index == 0 or bundle != bundles[index - 1]
        # A bundle starts a new tray when the tray is full, or when it would not fit in what is left
        # (and would fit in a tray of its own): a bundle is not split across trays if it can be helped.
        tray = (
            in_tray == 0
            or in_tray >= tray_pieces
            or (new_bundle and in_tray + sizes[index] > tray_pieces >= sizes[index])
        )
        in_tray = 1 if tray else in_tray + 1
        flags.append((new_bundle, tray))
    return flags


def write_control_file(
    path: Path, envelopes: Iterable[Envelope], *, job: str = "", header: bool = True, trailer: bool = True
) -> str:
    """Write the control file; returns its sha256 (for the job ticket)."""
    body = io.StringIO(newline="")
    writer = csv.writer(body)
    writer.writerow(CONTROL_COLUMNS)
    count = sheets = 0
    for envelope in envelopes:
        writer.writerow(
            [
                envelope.piece_id,
                envelope.sequence,
                envelope.sheets,
                envelope.inserts,
                int(envelope.divert),
                int(envelope.bundle_break),
                int(envelope.tray_break),
            ]
        )
        count += 1
        sheets += envelope.sheets
    records = body.getvalue()
    text = (f"H,{job},{count},{sheets}\r\n" if header else "") + records
    if trailer:
        text += f"T,{job},{count},{sheets},{hashlib.sha256(records.encode()).hexdigest()}\r\n"
    data = text.encode("utf-8")
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def read_control_file(path: Path) -> list[Envelope]:
    """The envelopes of a control file, its trailer checked when it has one (``control_file_damaged``)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # as written: the checksum covers the CRLFs
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"cannot read {path}: {error}", code="unreadable_file") from error
    lines = text.splitlines(keepends=True)
    header = lines.pop(0) if lines and lines[0].startswith("H,") else None
    trailer = lines.pop().rstrip("\r\n").split(",") if lines and lines[-1].startswith("T,") else None
    records = "".join(lines)
    rows = list(csv.DictReader(io.StringIO(records, newline="")))
    if not rows and not records.strip():
        raise InputFileError(f"{path}: no column line", code="missing_columns")
    missing = [name for name in CONTROL_COLUMNS[:5] if name not in (rows[0] if rows else {})]
    if rows and missing:
        raise InputFileError(f"{path}: column(s) missing: {', '.join(missing)}", code="missing_columns")
    try:
        envelopes = [
            Envelope(
                int(row["piece_id"]),
                int(row["sequence"]),
                int(row["sheets"]),
                int(row["inserts"]),
                row["divert"] == "1",
                row.get("bundle_break") == "1",
                row.get("tray_break") == "1",
            )
            for row in rows
        ]
    except (TypeError, ValueError) as error:
        raise InputFileError(
            f"{path}: a record is not a number: {error}", code="control_file_damaged"
        ) from error
    sheets = sum(envelope.sheets for envelope in envelopes)
    expected = [str(len(envelopes)), str(sheets)]
    if header is not None and header.rstrip("\r\n").split(",")[2:4] != expected:
        raise InputFileError(f"{path}: the header's counts are not the file's", code="control_file_damaged")
    if trailer is not None and (
        trailer[2:4] != expected or trailer[4:] != [hashlib.sha256(records.encode()).hexdigest()]
    ):
        raise InputFileError(
            f"{path}: the trailer's counts or checksum are not the file's (cut short or altered?)",
            code="control_file_damaged",
        )
    return envelopes


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
