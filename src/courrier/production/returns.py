"""Returned mail ("n'habite pas à l'adresse indiquée"): the piece comes back, the address is marked unknown.

The scan file holds the piece ids read from returned envelopes, one per line (a header line and blank lines
are skipped; a CSV's first column is taken). The person stays address-unknown, and out of every cohort,
until a newer register import changes the address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from courrier.db.bulk import select_where_in, update_where_in
from courrier.db.schema import persons, pieces
from courrier.errors import InputFileError
from courrier.ledger.pieces import move_pieces


@dataclass
class ReturnsSummary:
    scanned: int = 0
    returned: int = 0
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (line, value, why)

    def as_dict(self) -> dict[str, object]:
        return {
            "scanned": self.scanned,
            "returned": self.returned,
            "refused": [{"line": line, "value": value, "reason": why} for line, value, why in self.refused],
        }


def read_scans(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"cannot read {path}: {error}", code="unreadable_file") from error
    scans = []
    for line, raw in enumerate(text.splitlines(), start=1):
        value = raw.split(",")[0].split(";")[0].strip()
        if value and not (line == 1 and not value.isdigit()):
            scans.append((line, value))
    return scans


def scan_returns(engine: Engine, path: Path, *, actor: str, at: dt.datetime) -> ReturnsSummary:
    scans = read_scans(path)
    summary = ReturnsSummary(scanned=len(scans))
    wanted: dict[int, int] = {}
    for line, value in scans:
        if not value.isdigit():
            summary.refused.append((line, value, "not a piece id"))
        elif int(value) in wanted:
            summary.refused.append((line, value, "scanned twice"))
        else:
            wanted[int(value)] = line
    with engine.begin() as connection:
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
