"""Golden pages: every example template in each of the five languages, for a person of each recorded sex
(F, M, X and none), at home and abroad, rendered by Ghostscript and compared with stored images.

A changed layout fails here. When the change is intended, look at the new pages, then regenerate with
``COURRIER_UPDATE_GOLDEN=1 pytest tests/compose/test_golden.py``.
"""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from courrier.compose import compose_job, load_template
from courrier.specimens import LANGUAGES, SEXES, record_for

from .conftest import EXAMPLES

DATA = Path(__file__).parent / "data" / "golden"
RESOLUTION = 40
# Mean difference per pixel, out of 255: anti-aliasing differences between Ghostscript versions stay
# far below it; a moved paragraph or a lost line does not.
TOLERANCE = 2.0
# The same over each 16 x 16 pixel tile (10 mm): a whole page's mean hides a changed word (a
# recipient's name spelt differently moves it by 0.04), a tile does not (11; one character of the
# printed code: 6).
TILE = 16
TILE_TOLERANCE = 4.0
NAMES = {
    "fr": ("Marie-Claire", "Dupont-Lefèvre"),
    "de": ("Jürgen", "Müller-Lüdenscheidt"),
    "en": ("Siobhán", "O'Brien"),
    "pt": ("Maria da Conceição", "Ferreira dos Santos"),
    "lb": ("Jean-Paul", "Wagner"),
}
ABROAD = {
    "fr": {"country": "FR", "postcode": "57100", "locality": "Thionville", "street": "rue de Paris"},
    "de": {"country": "DE", "postcode": "54290", "locality": "Trier", "street": "Simeonstraße"},
    "en": {"country": "GB", "postcode": "SW1A 1AA", "locality": "London", "street": "Downing Street"},
    "pt": {"country": "FR", "postcode": "54400", "locality": "Longwy", "street": "rue de Metz"},
    "lb": {"country": "BE", "postcode": "6700", "locality": "Arlon", "street": "Grand-Rue"},
}
HOME = {"country": "LU", "postcode": "L-4221", "locality": "Esch-sur-Alzette", "street": "rue de Luxembourg"}
# The order the golden pages were drawn in (each record's code comes from one seeded sequence).
GOLDEN_LANGUAGES = ("fr", "de", "en", "pt", "lb")
assert set(GOLDEN_LANGUAGES) == set(LANGUAGES)
PLACES = ("home", "abroad")
CASES = [(language, sex, place) for language in GOLDEN_LANGUAGES for sex in SEXES for place in PLACES]


def golden_records() -> list[dict[str, Any]]:
    rnd = random.Random(42)
    records = []
    for number, (language, sex, place) in enumerate(CASES, start=1):
        given, family = NAMES[language]
        person = {
            "id": number,
            "family_name": family,
            "given_names": given,
            "sex": sex,
            "language": language,
            "care_of": "",
            "house_number": "12",
            **(HOME if place == "home" else ABROAD[language]),
        }
        records.append(record_for(person, number, rnd))
    return records


def render_all(gs: str, pdf: Path) -> list[np.ndarray]:
    pattern = pdf.with_name("page-%03d.png")
    subprocess.run(
        [gs, "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pnggray", f"-r{RESOLUTION}",
         f"-sOutputFile={pattern}", str(pdf)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    pages = sorted(pdf.parent.glob("page-*.png"))
    return [np.asarray(Image.open(page).convert("L"), dtype=np.float32) for page in pages]


@pytest.mark.parametrize("template", ["vaccination", "mass-testing", "voucher"])
def test_pages_match_the_golden_images(pdf_tools, tmp_path: Path, template: str):
    pdf = tmp_path / "letters.pdf"
    result = compose_job(load_template(EXAMPLES / template), golden_records(), pdf)
    assert result.letters == len(CASES), result.failures
    pages = render_all(pdf_tools.gs, pdf)
    assert len(pages) == len(CASES)
    update = os.environ.get("COURRIER_UPDATE_GOLDEN") == "1"
    for page, (language, sex, place) in zip(pages, CASES, strict=True):
        golden_path = DATA / f"{template}-{language}-{sex or 'none'}-{place}.png"
        if update:
            Image.fromarray(page.astype(np.uint8)).save(golden_path, optimize=True)
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
