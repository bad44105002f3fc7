"""Printer and inserter profiles: what a print shop configures once per machine (``docs/production.md``).

A **printer profile** (TOML)::

    name = "Press 1"
    media = "A4 80 g/m² white offset"
    paper_g_m2 = 80           # for the weight estimate
    plex = "template"         # "simplex", "duplex", or "template" (as the template says)
    colour = "cmyk"           # "cmyk" (FOGRA39 output intent) or "gray" (mono printer)

An **inserter profile** (TOML)::

    name = "INS-1"
    envelope = "C5 window envelope"
    envelope_g = 4.5
    fold = "half"             # "none", "half" (A4 once, into C5) or "letter" (A4 in three, into DL)
    postage_class = "A prioritaire"
    tray_pieces = 500         # a tray break flag every N envelopes
    header = true             # H and T records around the control file
    trailer = true

    [mark]                    # the sheet mark the inserter's camera reads
    layout = "C1|{job}|{sequence:06d}|{sheet}/{sheets}|{end}"
    x_mm = 8
    y_mm = 250
    module_mm = 0.5
    length = 0                # a fixed length the layout must give (0: any)

The layout is a Python format string over ``job``, ``sequence``, ``sheet``, ``sheets``, ``end`` (``E``
on the last sheet of a piece, else ``C``), ``inserts`` and ``divert`` (0 or 1). The mark must lie at least
:data:`EDGE_MM` from the sheet's edges, clear of the envelope window and of the folds, with modules of at
least :data:`MIN_MODULE_MM` (what inserter cameras and scanner guidance ask for).
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from courrier.errors import ConfigError

EDGE_MM = 7.0
MIN_MODULE_MM = 0.5
MARK_FIELDS = ("job", "sequence", "sheet", "sheets", "end", "inserts", "divert")
FOLDS_MM = {"none": (), "half": (148.5,), "letter": (99.0, 198.0)}
# Folding keeps a margin either side of the crease: a mark across it is read badly or not at all.
FOLD_CLEARANCE_MM = 3.0
A4_M2 = 0.210 * 0.297


class ProfileError(ConfigError):
    """A printer or inserter profile that cannot be used (``code``: bad_profile, mark_misplaced)."""


@dataclass(frozen=True)
class PrinterProfile:
    name: str
    media: str
    paper_g_m2: float
    plex: str
    colour: str

    def duplex(self, template_duplex: bool) -> bool:
        return template_duplex if self.plex == "template" else self.plex == "duplex"


@dataclass(frozen=True)
class MarkLayout:
    layout: str
    x_mm: float
    y_mm: float
    module_mm: float
    length: int = 0

    def text(
        self, job: str, sequence: int, sheet: int, sheets: int, inserts: int = 0, divert: bool = False
    ) -> str:
        end = "E" if sheet == sheets else "C"
        values = {"job": job, "sequence": sequence, "sheet": sheet, "sheets": sheets, "end": end}
        text = self.layout.format(**values, inserts=inserts, divert=int(divert))
        if self.length and len(text) != self.length:
            raise ProfileError(
                f"sheet mark {text!r} is {len(text)} characters, the inserter reads {self.length}",
                code="bad_profile",
            )
        return text


@dataclass(frozen=True)
class InserterProfile:
    name: str
    envelope: str
    envelope_g: float
    fold: str
    postage_class: str
    tray_pieces: int
    header: bool
    trailer: bool
    mark: MarkLayout

    def weight_g(self, sheets: int, paper_g_m2: float) -> float:
        return round(sheets * A4_M2 * paper_g_m2 + self.envelope_g, 1)


def load_printer(path: Path | None = None) -> PrinterProfile:
    """A printer profile from ``path``, or the built-in default (colour press, template's plex)."""
    raw = _read(path, "printer.toml")
    try:
        profile = PrinterProfile(
            str(raw["name"]),
            str(raw["media"]),
            float(raw["paper_g_m2"]),
            str(raw["plex"]),
            str(raw["colour"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ProfileError(
            f"{path or 'printer profile'}: {error!r} missing or wrong", code="bad_profile"
        ) from error
    if profile.plex not in ("simplex", "duplex", "template"):
        raise ProfileError(f"{path}: plex must be simplex, duplex or template", code="bad_profile")
    if profile.colour not in ("cmyk", "gray"):
        raise ProfileError(f"{path}: colour must be cmyk or gray", code="bad_profile")
    return profile


def load_inserter(path: Path | None = None) -> InserterProfile:
    """An inserter profile from ``path``, or the built-in default (the ``C1|…`` mark, C5 half fold)."""
    raw = _read(path, "inserter.toml")
    where = path or "inserter profile"
    try:
        mark_raw = raw["mark"]
        mark = MarkLayout(
            str(mark_raw["layout"]),
            float(mark_raw["x_mm"]),
            float(mark_raw["y_mm"]),
            float(mark_raw["module_mm"]),
            int(mark_raw.get("length", 0)),
        )
        profile = InserterProfile(
            str(raw["name"]),
            str(raw["envelope"]),
            float(raw["envelope_g"]),
            str(raw["fold"]),
            str(raw["postage_class"]),
            int(raw.get("tray_pieces", 500)),
            bool(raw.get("header", True)),
            bool(raw.get("trailer", True)),
            mark,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ProfileError(f"{where}: {error!r} missing or wrong", code="bad_profile") from error
    fields = {name for _, name, _, _ in string.Formatter().parse(mark.layout) if name is not None}
    unknown = fields - set(MARK_FIELDS)
    if unknown:
        raise ProfileError(
            f"{where}: mark layout names {', '.join(sorted(unknown))}; it may use {', '.join(MARK_FIELDS)}",
            code="bad_profile",
        )
    if profile.fold not in FOLDS_MM:
        raise ProfileError(f"{where}: fold must be one of {', '.join(FOLDS_MM)}", code="bad_profile")
    if mark.module_mm < MIN_MODULE_MM:
        raise ProfileError(
            f"{where}: mark modules of {mark.module_mm:g} mm; at least {MIN_MODULE_MM:g} mm",
            code="bad_profile",
        )
    if profile.tray_pieces < 1:
        raise ProfileError(f"{where}: tray_pieces must be at least 1", code="bad_profile")
    try:  # the layout formats: a wrong spec or length fails here, not in the middle of a job
        mark.text("J000001", 1, 1, 1)
    except (ValueError, IndexError, KeyError) as error:
        raise ProfileError(f"{where}: mark layout {mark.layout!r}: {error}", code="bad_profile") from error
    return profile


def configured_profiles(
    printer_path: str = "", inserter_path: str = ""
) -> tuple[PrinterProfile, InserterProfile]:
    """The profiles the settings name (``COURRIER_PRINTER_PROFILE``, ``COURRIER_INSERTER_PROFILE``), each
    the built-in one when unset: what ``compose``, ``reprint`` and ``template render`` all use."""
    return (
        load_printer(Path(printer_path) if printer_path else None),
        load_inserter(Path(inserter_path) if inserter_path else None),
    )


def check_mark_placement(
    inserter: InserterProfile,
    size_mm: float,
    page_mm: tuple[float, float],
    window: tuple[float, float, float, float],
) -> None:
    """Refuse a mark of side ``size_mm`` that is too near an edge, in the window or across a fold.

    ``window`` is the envelope window (x, y, width, height) in mm from the top-left of the page.
    """
    mark = inserter.mark
    width, height = page_mm
    left, top, right, bottom = mark.x_mm, mark.y_mm, mark.x_mm + size_mm, mark.y_mm + size_mm
    problems = []
    if min(left, top, width - right, height - bottom) < EDGE_MM:
        problems.append(f"less than {EDGE_MM:g} mm from the sheet's edge")
    wx, wy, ww, wh = window
    if left < wx + ww and right > wx and top < wy + wh and bottom > wy:
        problems.append("in the envelope window")
    for fold in FOLDS_MM[inserter.fold]:
        if top - FOLD_CLEARANCE_MM < fold < bottom + FOLD_CLEARANCE_MM:
            problems.append(f"across the fold at {fold:g} mm")
    if problems:
        raise ProfileError(
            f"{inserter.name}: the sheet mark at x={left:g}, y={top:g} mm ({size_mm:g} mm) is "
            + " and ".join(problems),
            code="mark_misplaced",
        )


def _read(path: Path | None, default: str) -> dict[str, Any]:
    try:
        if path is None:
            text = resources.files("courrier.production").joinpath("profiles", default).read_text("utf-8")
        else:
            text = path.read_text("utf-8")
        return tomllib.loads(text)
    except OSError as error:
        raise ProfileError(f"cannot read profile {path}: {error.strerror}", code="bad_profile") from error
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"{path}: {error}", code="bad_profile") from error
