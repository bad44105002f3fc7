"""Looking at a PDF as its users do: qpdf checks it, Ghostscript renders it, zxing-cpp reads its codes,
pdftotext extracts its words with their positions."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import zxingcpp
from PIL import Image

from courrier.production.piece_ids import format_piece_id

from ..conftest import require_binary

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "templates"


@dataclass(frozen=True)
class Word:
    text: str
    x_mm: float
    y_mm: float  # from the top of the page
    page: int
    right_mm: float = 0.0
    bottom_mm: float = 0.0

    @property
    def height_mm(self) -> float:
        """The line box poppler gives the word: the font's ascent to descent, proportional to its size."""
        return self.bottom_mm - self.y_mm


class PdfTools:
    def __init__(self) -> None:
        self.qpdf = require_binary("qpdf")
        self.gs = require_binary("gs")
        self.pdftotext = require_binary("pdftotext")

    def check(self, pdf: Path) -> None:
        """``qpdf --check``: no error and no warning."""
        done = subprocess.run([self.qpdf, "--check", str(pdf)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "No syntax or stream encoding errors" in done.stdout
        assert "WARNING" not in done.stdout + done.stderr, done.stdout + done.stderr

    def render(self, pdf: Path, page: int, resolution: int = 150) -> Image.Image:
        target = pdf.with_name(f"{pdf.stem}-{page}-{resolution}.png")
        subprocess.run(
            [
                self.gs,
                "-q",
                "-dNOPAUSE",
                "-dBATCH",
                "-dSAFER",
                "-sDEVICE=pnggray",
                f"-r{resolution}",
                f"-dFirstPage={page}",
                f"-dLastPage={page}",
                f"-sOutputFile={target}",
                str(pdf),
            ],
            check=True,
            capture_output=True,
        )
        return Image.open(target)

    def barcodes(self, pdf: Path, page: int) -> dict[str, str]:
        """Format name -> text of every barcode zxing-cpp finds on the rendered page."""
        found = zxingcpp.read_barcodes(self.render(pdf, page))
        return {result.format.name: result.text for result in found}

    def text(self, pdf: Path) -> str:
        return subprocess.run(
            [self.pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout

    def without_output_intent(self, pdf: Path) -> Path:
        """A copy of ``pdf`` without its PDF/X output intent, to read a long job's words from: poppler
        builds the intent's colour transform again for every page (40% of pdftotext's time on a
        1,000-page job), and colour has no part in which words are where."""
        copy = pdf.with_name(f"{pdf.stem}-without-intent.pdf")
        with pikepdf.open(pdf) as document:
            del document.Root.OutputIntents
            document.save(copy)
        return copy

    def words(self, pdf: Path, last_page: int | None = None) -> list[Word]:
        pages = [] if last_page is None else ["-l", str(last_page)]
        html = subprocess.run(
            [self.pdftotext, "-bbox", *pages, str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        words: list[Word] = []
        page = 0
        for line in html.splitlines():
            if "<page " in line:
                page += 1
            match = re.search(
                r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*)</word>', line
            )
            if match:
                x, y, right, bottom = (float(match.group(n)) * 25.4 / 72 for n in (1, 2, 3, 4))
                words.append(Word(unescape(match.group(5)), x, y, page, right, bottom))
        return words


@pytest.fixture
def pdf_tools() -> PdfTools:
    return PdfTools()


def person(family_name: str, given_names: str = "Anna", **other: Any) -> dict[str, Any]:
    values = {
        "id": 1,
        "family_name": family_name,
        "given_names": given_names,
        "sex": "F",
        "language": "fr",
        "care_of": "",
        "house_number": "12",
        "street": "rue de la Gare",
        "postcode": "L-1616",
        "locality": "Luxembourg",
        "country": "LU",
    }
    return values | other


def record(piece_id: int, family_name: str, given_names: str = "Anna", **other: Any) -> dict[str, Any]:
    return {
        "piece_id": str(piece_id),
        "piece_ref": format_piece_id(piece_id),
        "person": person(family_name, given_names, id=piece_id, **other),
        "code": "7KQ3-MZ8P-TXV4-H9",
        "qr": f"https://rdv.example.lu/c/7KQ3MZ8PTXV4H{piece_id}",
        "letter_date": "2026-03-12",
        "valid_from": "2026-03-12",
        "valid_until": "2026-03-26",
    }
