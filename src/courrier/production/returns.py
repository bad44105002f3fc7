"""Returned mail ("n'habite pas à l'adresse indiquée"): the piece comes back, the address is marked unknown.

The scan file holds the piece ids read from returned envelopes as printed, with their check digit
(``4711-8``, see :mod:`courrier.production.piece_ids`), one per line (a header line and blank lines are
skipped; a CSV's first column is taken). A value without its check digit, or with a wrong one, is
refused with its line. The person stays address-unknown, and out of every cohort,
until a newer register import changes the address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from courrier.db import write_transaction
from courrier.db.bulk import select_where_in, update_where_in
from courrier.db.schema import persons, pieces
from courrier.errors import InputFileError
from courrier.ledger.pieces import move_pieces
from courrier.production.piece_ids import parse_piece_id
from courrier.production.text_files import read_text_file
from courrier.result import Result


@dataclass
class ReturnsSummary(Result):
    scanned: int = 0
    returned: int = 0
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (line, value, why)

    def to_json(self) -> dict[str, object]:
        # A refusal as an object with named fields, not a bare triple.
        return {
            "scanned": self.scanned,
            "returned": self.returned,
            "refused": [{"line": line, "value": value, "reason": why} for line, value, why in self.refused],
        }


# A returned-mail scan file holds a day's or a week's envelopes: 4 MB is 300,000 lines.
MAX_FILE_BYTES = 4 * 1024 * 1024


def read_scans(path: Path) -> list[tuple[int, str]]:
    """(line, value) of each scanned id: a CSV's first column, blank lines and a header skipped."""
    text = read_text_file(path, max_bytes=MAX_FILE_BYTES, kind="a scan file")
    scans = []
    for line, raw in enumerate(text.splitlines(), start=1):
        value = raw.split(",")[0].split(";")[0].strip()
        header = line == 1 and not "0" <= value[:1] <= "9"
        if value and not header:
            scans.append((line, value[:40]))
    return scans


def scan_returns(engine: Engine, path: Path, *, actor: str, at: dt.datetime) -> ReturnsSummary:
    scans = read_scans(path)
    summary = ReturnsSummary(scanned=len(scans))
    wanted: dict[int, int] = {}
    for line, value in scans:
        try:
            piece_id = parse_piece_id(value)
        except InputFileError as error:
            why = "wrong check digit" if error.code == "bad_check_digit" else "not a piece id"
            summary.refused.append((line, value, why))
            continue
        if piece_id in wanted:
            summary.refused.append((line, value, "scanned twice"))
        else:
            wanted[piece_id] = line
    with write_transaction(engine) as connection:
        refused = move_pieces(
            connection, list(wanted), "returned", actor=actor, at=at, reason=f"returned mail {path.name}"
        )
        for piece_id, state in refused.items():
            why = "no such piece" if state == "unknown" else f"piece is {state}, not posted"
            summary.refused.append((wanted[piece_id], str(piece_id), why))
        returned = [piece_id for piece_id in wanted if piece_id not in refused]
        person_ids = [
            int(person_id)
            for (person_id,) in select_where_in(connection, [pieces.c.person_id], pieces.c.id, returned)
        ]
        update_where_in(connection, persons, persons.c.id, person_ids, {"address_unknown": True})
        summary.returned = len(returned)
    summary.refused.sort()
    return summary
