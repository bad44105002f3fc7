"""Golden pages: the example letters rendered by Ghostscript, compared with stored images.

A changed layout fails here. When the change is intended, look at the new page, then regenerate with
``COURRIER_UPDATE_GOLDEN=1 pytest tests/compose/test_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from courrier.compose import compose_job, load_template

from .conftest import EXAMPLES

DATA = Path(__file__).parent / "data"
RESOLUTION = 40
# Mean difference per pixel, out of 255: anti-aliasing differences between Ghostscript versions stay
# far below it; a moved paragraph or a lost line does not.
TOLERANCE = 2.0
# The same over each 16 x 16 pixel tile (10 mm): a whole page's mean hides a changed word (a
# recipient's name spelt differently moves it by 0.04), a tile does not (11; one character of the
# printed code: 6).
TILE = 16
TILE_TOLERANCE = 4.0


@pytest.mark.parametrize(
    ("template", "line"), [("vaccination", 1), ("vaccination", 4), ("mass-testing", 3), ("voucher", 2)]
)
def test_page_matches_the_golden_image(pdf_tools, tmp_path: Path, template: str, line: int):
    folder = EXAMPLES / template
    record = json.loads((folder / "sample.jsonl").read_text("utf-8").splitlines()[line - 1])
    pdf = tmp_path / "letter.pdf"
    compose_job(load_template(folder), [record], pdf)
    page = np.asarray(pdf_tools.render(pdf, 1, RESOLUTION).convert("L"), dtype=np.float32)
    golden_path = DATA / f"{template}-{line}.png"
    if os.environ.get("COURRIER_UPDATE_GOLDEN") == "1":
        Image.fromarray(page.astype(np.uint8)).save(golden_path)
    golden = np.asarray(Image.open(golden_path).convert("L"), dtype=np.float32)
    assert page.shape == golden.shape
    difference = np.abs(page - golden)
    assert float(difference.mean()) < TOLERANCE, f"page differs from {golden_path.name}"
    height, width = difference.shape
    worst, where = max(
        (float(difference[y : y + TILE, x : x + TILE].mean()), (x, y))
        for y in range(0, height, TILE)
        for x in range(0, width, TILE)
    )
    x_mm, y_mm = (round(v * 25.4 / RESOLUTION) for v in where)
    assert worst < TILE_TOLERANCE, f"{golden_path.name}: {worst:.1f} around x={x_mm} mm, y={y_mm} mm"
