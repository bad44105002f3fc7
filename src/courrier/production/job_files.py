"""The files of a print job, written whole or not at all.

- ``JOB.pdf``: the print file, one DPart record per letter, in presort order.
- ``JOB.manifest.csv``: ``piece_id, sequence, person_id, language, pages, sheets, postcode, bundle`` — the
  internal person id, never the national id; letters that failed to compose are not in it.
- ``JOB.ticket.json``: what the print room plans with, for the operator and for checking the files belong
  together. Every fact comes from the template, the printer and inserter profiles
  (:mod:`courrier.production.profiles`) and the wave, never from a constant::

    job, campaign, wave, send_date, template_version, printer, inserter,
    pieces, failed, pages, sheets,
    media, sides (simplex | duplex), colour (cmyk | gray), output_intent,
    envelope (the inserter's stock and the template's window), fold, postage_class,
    destination (domestic | international), weight_g_per_piece {min, max, mean},
    pdf, pdf_sha256, manifest_sha256, inserter_file_sha256

  A JDF job ticket is not written: the print rooms this serves take the PDF/VT file (its DPart records and
  DPM metadata carry the job and pieces) and this JSON; JDF would restate the same facts in a format no
  machine here reads, and a profile can add it when one does.
- ``JOB.inserter.csv``: the inserter control file (:mod:`courrier.production.inserter`).
- ``JOB.results.csv``: where ``courrier inserter simulate`` writes its results by default.

:func:`job_file` names them, once.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from courrier.campaigns.store import Campaign
from courrier.compose.print_condition import CONDITIONS
from courrier.country import HOME_COUNTRY
from courrier.production.inserter import (
    Envelope,
    break_flags,
    read_control_file,
    simulate_results,
    write_control_file,
    write_results_file,
)
from courrier.production.profiles import InserterProfile, PrinterProfile, load_inserter, load_printer

# The suffix of each of a job's files after its name.
JOB_FILES = {
    "pdf": ".pdf",
    "manifest": ".manifest.csv",
    "ticket": ".ticket.json",
    "inserter": ".inserter.csv",
    "results": ".results.csv",
}
MANIFEST_COLUMNS = ("piece_id", "sequence", "person_id", "language", "pages", "sheets", "postcode", "bundle")


@dataclass(frozen=True)
class JobSetting:
    """What a job's ticket and inserter file take from outside the composer."""

    printer: PrinterProfile
    inserter: InserterProfile
    template_duplex: bool = False
    window: str = "C5 window envelope (DIN 5008 B)"
    send_date: dt.date | None = None
    domestic: bool = True

    @property
    def duplex(self) -> bool:
        return self.printer.duplex(self.template_duplex)


def default_setting(**overrides: Any) -> JobSetting:
    return JobSetting(load_printer(), load_inserter(), **overrides)


@dataclass(frozen=True)
class PieceFacts:
    piece_id: int
    ok: bool
    pages: int
    sheets: int
    error_code: str | None = None
    error_message: str | None = None


def job_file(folder: Path | str, job: str, kind: str) -> Path:
    """The path of a job's file of ``kind`` (a key of :data:`JOB_FILES`) in its folder."""
    return Path(folder) / f"{job}{JOB_FILES[kind]}"


def simulate_job_results(
    folder: Path | str,
    job: str,
    *,
    output: Path | None = None,
    damage: float = 0.0,
    divert: float = 0.0,
    miss: float = 0.0,
    seed: int = 1,
) -> Path:
    """Write a realistic results file for ``job`` from its control file (default beside it); returns
    its path."""
    control = job_file(folder, job, "inserter")
    output = output or job_file(folder, job, "results")
    results = simulate_results(read_control_file(control), damage=damage, divert=divert, miss=miss, seed=seed)
    write_results_file(output, results)
    return output


def write_job_files(
    folder: Path,
    job: str,
    pdf: bytes,
    facts: Sequence[PieceFacts],
    records: Sequence[dict[str, Any]],
    campaign: Campaign,
    wave_number: int | None,
    *,
    setting: JobSetting | None = None,
) -> str:
    """Write the job's four files; returns the PDF's sha256."""
    setting = setting or default_setting()
    sha256 = hashlib.sha256(pdf).hexdigest()
    by_piece = {int(record["piece_id"]): record for record in records}
    composed = [piece for piece in facts if piece.ok]
    _atomic_write(job_file(folder, job, "pdf"), pdf)

    manifest = job_file(folder, job, "manifest")
    partial = manifest.with_name(f".{manifest.name}.partial")
    bundles = []
    with partial.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(MANIFEST_COLUMNS)
        for piece in composed:
            record = by_piece[piece.piece_id]
            person = record["person"]
            bundle = person["postcode"] if person["country"] == HOME_COUNTRY else person["country"]
            bundles.append(bundle)
            writer.writerow([piece.piece_id, record["sequence"], person["id"], person["language"],
                             piece.pages, piece.sheets, person["postcode"], bundle])  # fmt: skip
    manifest_sha256 = _file_sha256(partial)
    os.replace(partial, manifest)

    inserter = setting.inserter
    control = job_file(folder, job, "inserter")
    partial = control.with_name(f".{control.name}.partial")
    flags = break_flags(bundles, inserter.tray_pieces)
    envelopes = [
        Envelope(p.piece_id, by_piece[p.piece_id]["sequence"], p.sheets, bundle_break=b, tray_break=t)
        for p, (b, t) in zip(composed, flags, strict=True)
    ]
    control_sha256 = write_control_file(
        partial, envelopes, job=job, header=inserter.header, trailer=inserter.trailer
    )
    os.replace(partial, control)
    weights = [inserter.weight_g(p.sheets, setting.printer.paper_g_m2) for p in composed]
    condition = CONDITIONS[setting.printer.colour]

    ticket = {
        "job": job,
        "campaign": campaign.name,
        "wave": wave_number,
        "send_date": setting.send_date.isoformat() if setting.send_date else None,
        "template_version": campaign.template_sha256,
        "printer": setting.printer.name,
        "inserter": inserter.name,
        "pieces": len(composed),
        "failed": len(facts) - len(composed),
        "pages": sum(p.pages for p in composed),
        "sheets": sum(p.sheets for p in composed),
        "media": setting.printer.media,
        "sides": "duplex" if setting.duplex else "simplex",
        "colour": condition.name,
        "output_intent": condition.identifier,
        "envelope": {"stock": inserter.envelope, "window": setting.window},
        "fold": inserter.fold,
        "postage_class": inserter.postage_class,
        "destination": "domestic" if setting.domestic else "international",
        "weight_g_per_piece": {
            "min": min(weights, default=0.0),
            "max": max(weights, default=0.0),
            "mean": round(sum(weights) / len(weights), 1) if weights else 0.0,
        },
        "pdf": job_file(folder, job, "pdf").name,
        "pdf_sha256": sha256,
        "manifest_sha256": manifest_sha256,
        "inserter_file_sha256": control_sha256,
    }
    _atomic_write(
        job_file(folder, job, "ticket"), (json.dumps(ticket, indent=2, ensure_ascii=False) + "\n").encode()
    )
    return sha256


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    with partial.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(partial, path)
