"""The files of a print job, written whole or not at all.

- ``JOB.pdf``: the print file, one DPart record per letter, in presort order.
- ``JOB.manifest.csv``: ``piece_id, sequence, person_id, language, pages, sheets, postcode, bundle`` — the
  internal person id, never the national id; letters that failed to compose are not in it.
- ``JOB.ticket.json``: job, campaign, wave, template version, counts, media, simplex/duplex, envelope and
  the PDF's sha256, for the print operator and for checking the files belong together.
- ``JOB.inserter.csv``: the inserter control file (:mod:`courrier.production.inserter`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from courrier.campaigns.store import Campaign
from courrier.production.inserter import Envelope, write_control_file

MANIFEST_COLUMNS = ("piece_id", "sequence", "person_id", "language", "pages", "sheets", "postcode", "bundle")
MEDIA = "A4 80 g/m² white"


@dataclass(frozen=True)
class PieceFacts:
    piece_id: int
    ok: bool
    pages: int
    sheets: int
    error_code: str | None = None
    error_message: str | None = None


def write_job_files(
    folder: Path,
    job: str,
    pdf: bytes,
    facts: Sequence[PieceFacts],
    records: Sequence[dict[str, Any]],
    campaign: Campaign,
    wave_number: int | None,
    *,
    duplex: bool = False,
    envelope: str = "C5 window (DIN 5008 B)",
) -> str:
    """Write the job's four files; returns the PDF's sha256."""
    sha256 = hashlib.sha256(pdf).hexdigest()
    by_piece = {int(record["piece_id"]): record for record in records}
    composed = [piece for piece in facts if piece.ok]
    _atomic_write(folder / f"{job}.pdf", pdf)

    manifest = folder / f"{job}.manifest.csv"
    partial = manifest.with_name(f".{manifest.name}.partial")
    with partial.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(MANIFEST_COLUMNS)
        for piece in composed:
            record = by_piece[piece.piece_id]
            person = record["person"]
            bundle = person["postcode"] if person["country"] == "LU" else person["country"]
            writer.writerow([piece.piece_id, record["sequence"], person["id"], person["language"],
                             piece.pages, piece.sheets, person["postcode"], bundle])  # fmt: skip
    os.replace(partial, manifest)

    control = folder / f"{job}.inserter.csv"
    partial = control.with_name(f".{control.name}.partial")
    write_control_file(
        partial, [Envelope(p.piece_id, by_piece[p.piece_id]["sequence"], p.sheets) for p in composed]
    )
    os.replace(partial, control)

    ticket = {
        "job": job,
        "campaign": campaign.name,
        "wave": wave_number,
        "template_version": campaign.template_sha256,
        "pieces": len(composed),
        "failed": len(facts) - len(composed),
        "pages": sum(p.pages for p in composed),
        "sheets": sum(p.sheets for p in composed),
        "media": MEDIA,
        "sides": "duplex" if duplex else "simplex",
        "envelope": envelope,
        "pdf": f"{job}.pdf",
        "pdf_sha256": sha256,
    }
    _atomic_write(
        folder / f"{job}.ticket.json", (json.dumps(ticket, indent=2, ensure_ascii=False) + "\n").encode()
    )
    return sha256


def _atomic_write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)
