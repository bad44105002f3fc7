"""The certificate's QR code, and reading one back from a picture or a PDF page.

An ``HC1:`` string uses only the QR alphanumeric set (base45 was made for it), so it is written in
alphanumeric mode, one segment; the error correction level is Q (25 %), as the DCC specification asks;
the mask is pattern 2, as the composer's (``compose.barcodes``); the encoder is the composer's too
(``courrier.qr``).
A PDF page is rendered by pdftoppm (poppler), or Ghostscript when poppler is missing, at 300 dpi.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from courrier.errors import InputFileError
from courrier.qr import qr_matrix

EC_LEVEL = "Q"
RENDER_DPI = 300


def hc1_matrix(hc1: str) -> Any:
    """The QR symbol of ``hc1`` as a boolean array (True: dark module), without its quiet zone: our
    encoder (``courrier.qr``) in one alphanumeric segment, module for module what zxing-cpp makes
    with mask 2 (``tests/certificates``)."""
    return qr_matrix(hc1, EC_LEVEL, mask=2, alphanumeric=True)


def read_hc1(path: Path, page: int = 1) -> str:
    """The ``HC1:`` string of the first DCC QR code in the PNG (or other picture) or PDF page at ``path``."""
    try:
        head = path.read_bytes()[:5]
    except OSError as error:
        raise InputFileError(f"{path}: cannot read: {error.strerror}", code="dcc_bad_input") from None
    if head.startswith(b"%PDF"):
        with tempfile.TemporaryDirectory() as folder:
            picture = _render_pdf_page(path, page, Path(folder))
            return _read_picture(picture, f"{path} page {page}")
    return _read_picture(path, str(path))


def _read_picture(path: Path, where: str) -> str:
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = opened.convert("L")
    except (UnidentifiedImageError, OSError) as error:
        raise InputFileError(
            f"{where}: neither an HC1: string, a picture nor a PDF ({error})", code="dcc_bad_input"
        ) from None
    found = [
        code.text for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode
    ]
    if not found:
        raise InputFileError(f"{where}: no readable QR code", code="dcc_no_qr")
    return next((text for text in found if text.startswith("HC1:")), found[0])


def _render_pdf_page(pdf: Path, page: int, folder: Path) -> Path:
    if shutil.which("pdftoppm"):
        command = ["pdftoppm", "-r", str(RENDER_DPI), "-gray", "-png", "-f", str(page), "-l", str(page)]
        command += ["-singlefile", str(pdf), str(folder / "page")]
    elif shutil.which("gs"):
        command = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pnggray", f"-r{RENDER_DPI}"]
        command += [
            f"-dFirstPage={page}",
            f"-dLastPage={page}",
            f"-sOutputFile={folder / 'page.png'}",
            str(pdf),
        ]
    else:
        raise InputFileError(
            "reading a PDF needs pdftoppm (poppler-utils) or Ghostscript", code="dcc_bad_input"
        )
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    picture = folder / "page.png"
    if done.returncode != 0 or not picture.exists():
        reason = (done.stderr.strip().splitlines() or ["no page rendered"])[-1]
        raise InputFileError(f"{pdf}: cannot render page {page}: {reason}", code="dcc_bad_input")
    return picture
