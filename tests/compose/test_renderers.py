"""Ghostscript, poppler and MuPDF draw every example template's letters alike, and qpdf finds nothing to
warn about in the file.

Three things differ between the renderers that are no fault of the file, and the comparison allows for
each of them, no more:

- **Colour conversion to a gray rendering.** Ghostscript converts CMYK through its default ICC profiles,
  so 100% black ink (``0 0 0 1 k``) comes out as gray 32 of 255 and the flag's CMY mixes as its own
  grays; poppler, and MuPDF as built here (without LittleCMS), convert without profiles (black ink is
  gray 0). Ghostscript renders with ``-dUseFastColor`` here, the same conversion without profiles. The
  inks themselves are checked on Ghostscript's separations (``test_marks.py``).
- **Edges of the codes' modules.** A QR code or Data Matrix is a 1-bit image mask with
  ``/Interpolate false`` (``compose/barcodes.py``), and its modules (0.79 mm: 4.7 pixels at 150 dpi)
  do not fall on whole device pixels. Each renderer decides on its own which pixel a module's edge
  covers: Ghostscript by pixel centres, poppler and MuPDF each by their own rounding of the scaled
  image (MuPDF paints 6% more dark pixels over one QR code than poppler). That moves every module edge by
  up to a pixel, which changes a 16-pixel block of a code by up to 25 levels: more than a changed word
  does. So the codes are compared by what matters: each renderer's page decodes (zxing-cpp) to exactly
  the expected codes, and every module read at its centre has the expected colour; the pixels are
  compared everywhere else.
- **Glyph anti-aliasing and placement.** Ghostscript's PNG devices do not anti-alias unless told
  (``-dTextAlphaBits=4 -dGraphicsAlphaBits=4``; without them a bold line differs from poppler's by 21
  levels over a block); the renderers still place a glyph within a pixel of each other. Compared as
  means of 16 x 16 pixel blocks, the best of nine one-pixel shifts, as for the backgrounds
  (``test_backgrounds.py``): measured, at most 18 levels in a block between Ghostscript and the others
  and 9 between poppler and MuPDF, against a tolerance of 20.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zxingcpp
from PIL import Image

from courrier.compose import compose_job, load_template
from courrier.compose.barcodes import datamatrix_matrix, qr_matrix
from courrier.compose.sandbox import unescape_markup
from courrier.compose.template import Template

from ..conftest import require_binary
from .conftest import EXAMPLES, PdfTools
from .test_backgrounds import assert_alike

RESOLUTION = 150
PX_PER_MM = RESOLUTION / 25.4
MARGIN_MM = 1.0  # around a code: the pixels its modules' edges may reach
JOB = "J000042"


def mark_text(index: int, sheet: int, sheets: int) -> str:
    return f"C1|{JOB}|{index + 1:06d}|{sheet}/{sheets}|{'E' if sheet == sheets else 'C'}"


def render_pages(renderer: str, pdf: Path, folder: Path) -> list[np.ndarray]:
    prefix = folder / renderer
    if renderer == "gs":
        argv = [require_binary("gs"), "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-dUseFastColor",
                "-dTextAlphaBits=4", "-dGraphicsAlphaBits=4", "-sDEVICE=pnggray", f"-r{RESOLUTION}",
                f"-sOutputFile={prefix}-%03d.png", str(pdf)]  # fmt: skip
    elif renderer == "poppler":
        argv = [require_binary("pdftoppm"), "-gray", "-png", "-r", str(RESOLUTION), str(pdf), str(prefix)]
    else:
        argv = [require_binary("mutool"), "draw", "-q", "-c", "gray", "-r", str(RESOLUTION),
                "-o", f"{prefix}-%03d.png", str(pdf)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    # MuPDF says once that it was built without ICC support (the conversion above); nothing else.
    problems = [line for line in done.stderr.splitlines() if line.strip() and "ICC support" not in line]
    assert problems == [], done.stderr
    pages = sorted(folder.glob(f"{renderer}-*.png"), key=lambda path: int(path.stem.rsplit("-", 1)[1]))
    return [np.asarray(Image.open(page).convert("L"), dtype=np.float32) for page in pages]


def codes_on_page(template: Template, record: dict[str, Any], index: int) -> list[tuple[Any, ...]]:
    """(format, text, x_mm, y_mm, side_mm, matrix) of every code the letter's first page carries."""
    codes = []
    for element in template.pages[0]:
        if element.kind not in ("qr", "datamatrix"):
            continue
        text = unescape_markup(template.compiled(element.text).render(record))
        if element.kind == "qr":
            matrix = qr_matrix(text, element.ec_level, element.name, element.mask)
            codes.append(("QRCode", text, element.x, element.y, element.width, matrix))
        else:
            codes.append(("DataMatrix", text, element.x, element.y, element.width, datamatrix_matrix(text)))
    mark = mark_text(index, 1, 1)
    matrix = datamatrix_matrix(mark)
    x, y, _ = template.mark
    codes.append(("DataMatrix", mark, x, y, matrix.shape[0] * 0.5, matrix))
    return codes


def module_colours(image: np.ndarray, x_mm: float, y_mm: float, side_mm: float, matrix: Any) -> np.ndarray:
    """Each module of a code read at its centre: True where the rendering is dark."""
    rows, columns = matrix.shape
    module = side_mm / max(rows, columns)
    ys = np.round((y_mm + (np.arange(rows) + 0.5) * module) * PX_PER_MM - 0.5).astype(int)
    xs = np.round((x_mm + (np.arange(columns) + 0.5) * module) * PX_PER_MM - 0.5).astype(int)
    return np.asarray(image[np.ix_(ys, xs)] < 128)


def without_codes(image: np.ndarray, codes: list[tuple[Any, ...]]) -> np.ndarray:
    blank = image.copy()
    for _, _, x, y, side, _ in codes:
        top, left = round((y - MARGIN_MM) * PX_PER_MM), round((x - MARGIN_MM) * PX_PER_MM)
        bottom, right = round((y + side + MARGIN_MM) * PX_PER_MM), round((x + side + MARGIN_MM) * PX_PER_MM)
        blank[max(top, 0) : bottom, max(left, 0) : right] = 255
    return blank


def samples(name: str) -> list[dict[str, Any]]:
    lines = (EXAMPLES / name / "sample.jsonl").read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("name", ["vaccination", "mass-testing", "voucher"])
def test_three_renderers_draw_every_example_alike(pdf_tools: PdfTools, tmp_path: Path, name: str):
    template = load_template(EXAMPLES / name)
    records = samples(name)  # every language of the example
    pdf = tmp_path / "job.pdf"
    result = compose_job(
        template,
        records,
        pdf,
        job_id=JOB,
        sheet_marks=lambda index, _record, sheet, sheets: mark_text(index, sheet, sheets),
    )
    assert result.letters == len(records) == result.pages, result.failures
    pdf_tools.check(pdf)  # no warning either
    renderings = {renderer: render_pages(renderer, pdf, tmp_path) for renderer in ("gs", "poppler", "mupdf")}
    for renderer, pages in renderings.items():
        assert len(pages) == len(records), renderer
    for index, record in enumerate(records):
        codes = codes_on_page(template, record, index)
        expected = sorted((format_name, text) for format_name, text, *_ in codes)
        for renderer, pages in renderings.items():
            image = pages[index]
            found = zxingcpp.read_barcodes(Image.fromarray(image.astype(np.uint8)))
            read = sorted((code.format.name, code.text) for code in found)
            assert read == expected, f"{name} page {index + 1}, {renderer}"
            for format_name, text, x, y, side, matrix in codes:
                wrong = int((module_colours(image, x, y, side, matrix) != matrix).sum())
                assert wrong == 0, (
                    f"{name} page {index + 1}, {renderer}: {wrong} modules of {format_name} {text}"
                )
        gs, poppler, mupdf = (without_codes(renderings[r][index], codes) for r in ("gs", "poppler", "mupdf"))
        assert_alike(poppler, gs, f"{name} page {index + 1}: poppler against Ghostscript")
        assert_alike(mupdf, gs, f"{name} page {index + 1}: MuPDF against Ghostscript")
        assert_alike(mupdf, poppler, f"{name} page {index + 1}: MuPDF against poppler")
