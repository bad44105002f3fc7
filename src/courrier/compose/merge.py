"""A template with a file of records, outside any campaign: check the letters they would make, or render
them (a mail merge, a preview). ``courrier template check --records`` and ``template render`` call these.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from courrier.compose.check import Problem, check_template
from courrier.compose.job import MarkPlacement, PieceResult, compose_job
from courrier.compose.preview import render_pngs
from courrier.compose.print_condition import CMYK, PrintCondition
from courrier.compose.records_file import read_records
from courrier.compose.template import load_template
from courrier.errors import InputFileError, NotFoundError
from courrier.result import Result


def check_folder(folder: Path, records_file: Path | None = None) -> list[Problem]:
    """What is wrong with the template in ``folder`` and, with ``records_file``, with each letter that
    fails to compose from its records (nothing is written)."""
    loaded = load_template(folder, verify=False)
    problems = check_template(loaded)
    if records_file is not None:
        result = compose_job(loaded, read_records(records_file), io.BytesIO())
        problems += [
            Problem(
                str(piece.error_code),
                f"{records_file.name}, piece {piece.piece_id}",
                str(piece.error_message),
            )
            for piece in result.failures
        ]
    return problems


@dataclass(frozen=True)
class Machines:
    """What the print room's profiles decide about a rendering (the CLI reads them from the settings):
    ``plex`` (simplex, duplex, or as the template says), the print condition, and the inserter's sheet
    mark, its text for (letter number, sheet, sheets) and its placement."""

    plex: str = "template"
    condition: PrintCondition = CMYK
    mark_text: Callable[[int, int, int], str] | None = None
    mark: MarkPlacement | None = None


@dataclass(frozen=True)
class RenderSummary(Result):
    output: Path
    letters: int
    pages: int
    sheets: int
    bytes: int
    failures: list[PieceResult]
    png: list[Path] | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        # "png" only when previews were asked for and made.
        facts = super().to_json()
        if self.png is None:
            del facts["png"]
        return facts


def render_records(
    folder: Path,
    records_file: Path,
    output: Path,
    *,
    png_folder: Path | None = None,
    pages: Sequence[int] | None = (1,),
    machines: Machines | None = None,
) -> RenderSummary:
    """One letter per record of ``records_file`` into the PDF ``output``; a letter that cannot be
    composed is reported and left out. With ``png_folder``, PNG previews of ``pages`` (None: every
    page); a page the PDF does not have is refused (``page_not_found``) before any preview is made.
    ``machines`` prints as the printer and inserter would (default: the template's plex, CMYK, no mark).
    """
    loaded = load_template(folder)
    records = list(read_records(records_file))
    if not records:  # a PDF with no page is no print file
        raise InputFileError(f"{records_file} holds no record: nothing to render", code="no_records")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputFileError(
            f"cannot create the folder {output.parent}: {error.strerror}", code="unwritable_folder"
        ) from error
    machines = machines or Machines()
    mark_text = machines.mark_text
    result = compose_job(
        loaded,
        records,
        output,
        job_id=output.stem,
        duplex=None if machines.plex == "template" else machines.plex == "duplex",
        condition=machines.condition,
        sheet_marks=(
            None
            if mark_text is None
            else lambda index, _record, sheet, sheets: mark_text(index + 1, sheet, sheets)
        ),
        mark=machines.mark,
    )
    png = None
    if png_folder is not None and result.pages:
        wanted = list(range(1, result.pages + 1)) if pages is None else list(pages)
        missing = [page for page in wanted if not 1 <= page <= result.pages]
        if missing:
            raise NotFoundError(
                f"page {missing[0]} does not exist: {output} has {result.pages}"
                f" page{'s' if result.pages > 1 else ''} (1-{result.pages}); no preview written",
                code="page_not_found",
                page=missing[0],
                pages=result.pages,
            )
        png = render_pngs(output, png_folder, wanted)
    return RenderSummary(
        output, result.letters, result.pages, result.sheets, result.bytes, result.failures, png
    )
