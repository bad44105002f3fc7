"""The inserter's sheet mark and the print condition, checked on the rendered sheet.

The mark is decoded from a 200 dpi rendering (an inserter camera reads about as much) for two inserters
with different layouts: its content is the profile's layout, its modules at least 0.5 mm, and it lies
where the profile puts it, clear of the edges, the envelope window and the folds. The separations
(Ghostscript's tiffsep) show every text, code and mark in black ink only.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from courrier.compose import compose_job, load_template
from courrier.compose.barcodes import datamatrix_matrix
from courrier.compose.job import MarkPlacement
from courrier.production.profiles import MIN_MODULE_MM, check_mark_placement, load_inserter

from .conftest import EXAMPLES, PdfTools

PROFILES = EXAMPLES.parent / "profiles"
RESOLUTION = 200
PX_MM = 25.4 / RESOLUTION


def samples(name: str) -> list[dict]:
    lines = (EXAMPLES / name / "sample.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("profile", ["c5-inserter", "dl-inserter-18"])
@pytest.mark.parametrize("template_name", ["vaccination", "voucher"])
def test_every_sheet_mark_reads_back_where_and_as_the_inserter_expects(
    pdf_tools: PdfTools, tmp_path: Path, profile: str, template_name: str
):
    inserter = load_inserter(PROFILES / f"{profile}.toml")
    layout = inserter.mark
    template = load_template(EXAMPLES / template_name)
    records = samples(template_name)[:4]
    pdf = tmp_path / "job.pdf"
    compose_job(
        template,
        records,
        pdf,
        job_id="J000042",
        sheet_marks=lambda index, _record, sheet, sheets: layout.text("J000042", index + 1, sheet, sheets),
        mark=MarkPlacement(layout.x_mm, layout.y_mm, layout.module_mm),
    )
    window = template.window
    for page in range(1, len(records) + 1):
        expected = layout.text("J000042", page, 1, 1)
        found = [
            code
            for code in zxingcpp.read_barcodes(pdf_tools.render(pdf, page, RESOLUTION))
            # The other Data Matrix is the piece's reference, in the window (for returned mail).
            if code.format == zxingcpp.BarcodeFormat.DataMatrix
            and code.text != records[page - 1]["piece_ref"]
        ]
        assert [code.text for code in found] == [expected]
        corners = found[0].position
        xs = [corners.top_left.x, corners.top_right.x, corners.bottom_left.x, corners.bottom_right.x]
        ys = [corners.top_left.y, corners.top_right.y, corners.bottom_left.y, corners.bottom_right.y]
        side_px = math.dist(
            (corners.top_left.x, corners.top_left.y), (corners.top_right.x, corners.top_right.y)
        )
        modules = datamatrix_matrix(expected).shape[0]
        module_mm = (side_px * PX_MM) / modules  # zxing gives the symbol's outer corners

        assert module_mm >= MIN_MODULE_MM - 0.02, module_mm
        assert module_mm == pytest.approx(layout.module_mm, abs=0.03)
        left, top = min(xs) * PX_MM, min(ys) * PX_MM
        assert (left, top) == (pytest.approx(layout.x_mm, abs=0.3), pytest.approx(layout.y_mm, abs=0.3))
        size_mm = (max(max(xs) - min(xs), max(ys) - min(ys))) * PX_MM
        check_mark_placement(  # measured on paper: edges, window and folds
            inserter.__class__(
                **{**inserter.__dict__, "mark": layout.__class__(layout.layout, left, top, module_mm)}
            ),
            size_mm,
            (template.width_mm, template.height_mm),
            (window.x, window.y, window.width, window.height),
        )


def separations(pdf: Path, gs: str, folder: Path) -> dict[str, np.ndarray]:
    """Ink coverage (0 none .. 255 full) of each process colour, from Ghostscript's tiffsep."""
    target = folder / "sep.tif"
    subprocess.run(
        [gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=tiffsep", "-r100",
         "-dFirstPage=1", "-dLastPage=1", f"-sOutputFile={target}", str(pdf)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    inks = {}
    for ink in ("Cyan", "Magenta", "Yellow", "Black"):
        plate = np.asarray(Image.open(folder / f"sep({ink}).tif").convert("L"), dtype=np.int16)
        inks[ink] = 255 - plate  # tiffsep writes each plate as a negative: 255 is no ink
    return inks


def test_text_codes_and_marks_are_black_ink_only(pdf_tools: PdfTools, tmp_path: Path):
    """Only the letterhead's flag and rule (the top 32 mm) have colour; everything else is K."""
    template = load_template(EXAMPLES / "vaccination")
    pdf = tmp_path / "letter.pdf"
    compose_job(
        template,
        samples("vaccination")[:1],
        pdf,
        sheet_marks=lambda index, _record, sheet, sheets: f"C1|J000001|{index + 1:06d}|{sheet}/{sheets}|E",
    )
    inks = separations(pdf, pdf_tools.gs, tmp_path)
    below_letterhead = round(32 / 25.4 * 100)
    for ink in ("Cyan", "Magenta", "Yellow"):
        assert inks[ink][:below_letterhead].max() > 100, f"the flag has no {ink}"
        assert inks[ink][below_letterhead:].max() == 0, f"{ink} ink below the letterhead"
    black = inks["Black"][below_letterhead:]
    assert black.max() == 255  # text, QR code and sheet mark in solid black
    assert (black > 0).mean() > 0.02
