"""QR codes from our encoder (``courrier.qr``) and Data Matrix symbols from zxing-cpp, drawn as 1-bit
inline image masks.

One module is one image sample; the image is scaled to the symbol's size with ``/Interpolate false`` so a
RIP renders crisp modules at any resolution. Measured on the reference letter (``bench/compose.py
--barcodes vector``): as an image mask a letter costs 1,034 bytes at 3,237 letters/s; as vector
rectangles (one ``re`` per run of dark modules) 1,590 bytes at 2,274 letters/s. Both decode the same.

QR codes use one fixed mask pattern (2: every third column) unless a template asks for ``mask = "auto"``.
An encoder's own choice tries all eight masks and scores each by the standard's penalty rules: with
zxing-cpp, 0.19 ms of the 0.46 ms a reference letter cost, against 0.04 ms for one mask. For what we
encode (booking URLs and tokens: random-looking data) the choice buys nothing measurable: over 300
booking URLs the penalty score of mask 2 averaged 574 (worst 742) against 611 (worst 786) for zxing-cpp's
picks, and over 300 60-character tokens 639 (worst 832) against 610 (worst 821). The search matters for
data with long repeats, which a template can still ask for, at a price: with our encoder a 60-character
token at level M takes about 0.016 ms with one mask and 0.7-0.8 ms with ``mask = "auto"`` (its eight
symbols placed and scored in one pass of array operations, ``courrier.qr.symbol.penalties``; 2.2 ms
when each was scored apart), against 0.2 ms for zxing-cpp's own choice (best of 5 runs of 300 tokens,
load 19). The reference letter takes about 0.2 ms in all: with "auto" it composes at a fifth of that.

zxing-cpp's QR encoder took 273,000 of the reference letter's 1,718,000 instructions (callgrind); ours
makes the same symbol for the letters' contents (same version and, for ASCII, nearly always the same
modules: ``tests/qr/``) with cached segment plans and templates, in a fraction of that.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

import numpy as np
import zxingcpp

from courrier.compose.pdf import number
from courrier.errors import CompositionError
from courrier.qr import qr_image as encode_qr_image
from courrier.qr import qr_matrix as encode_qr

DEFAULT_QR_MASK = 2
Encoded = TypeVar("Encoded")


def qr_matrix(
    content: str, ec_level: str = "M", field: str = "qr", mask: int | None = DEFAULT_QR_MASK
) -> np.ndarray:
    """The QR symbol as a boolean array, True for a dark module, without quiet zone. ``mask`` None lets
    the encoder try all eight masks (see the module docstring)."""
    return _encoded(encode_qr, content, ec_level, field, mask)


def qr_image_operators(
    content: str, ec_level: str, field: str, mask: int | None, x: float, y: float, size: float
) -> bytes:
    """:func:`image_mask_operators` of :func:`qr_matrix`, from the encoder's 1-bit image as it is
    (``courrier.qr.qr_image``: no matrix made per letter for a small symbol)."""
    modules, image = _encoded(encode_qr_image, content, ec_level, field, mask)
    return _image_header(modules, modules, x, y, size) + image + b"\nEI Q\n"


def _encoded(
    encode: Callable[[str, str, int | None], Encoded],
    content: str,
    ec_level: str,
    field: str,
    mask: int | None,
) -> Encoded:
    _require_content(content, field)
    try:
        return encode(content, ec_level, mask)
    except ValueError as error:
        raise CompositionError(
            f"cannot encode {content!r}: {error}", code="barcode_error", field=field
        ) from error


def datamatrix_matrix(content: str, field: str = "datamatrix") -> np.ndarray:
    """Always a square symbol: zxing-cpp would pick a rectangular one (12 x 26 modules) for some contents,
    half the height of the square the template reserves, with modules too small for an inserter's
    camera."""
    return datamatrix_samples(content, field) < 128


def datamatrix_samples(content: str, field: str = "datamatrix") -> np.ndarray:
    """:func:`datamatrix_matrix` as zxing-cpp draws it, one 8-bit sample per module: 0 dark, 255 light.
    What the composer draws from (the operators below take it as it is: no boolean array per letter)."""
    return _samples(content, zxingcpp.BarcodeFormat.DataMatrix, field, forceSquare=True)


def _samples(
    content: str, symbology: zxingcpp.BarcodeFormat, field: str, **options: str | bool
) -> np.ndarray:
    _require_content(content, field)
    try:
        barcode = zxingcpp.create_barcode(content, symbology, **options)
    except (ValueError, RuntimeError) as error:
        raise CompositionError(
            f"cannot encode {content!r}: {error}", code="barcode_error", field=field
        ) from error
    return np.asarray(barcode.to_image(scale=1, add_quiet_zones=False))


def _require_content(content: str, field: str) -> None:
    if not content:
        raise CompositionError("the barcode has no content", code="empty_barcode", field=field)


def _dark(symbol: np.ndarray) -> np.ndarray:
    """A boolean matrix (True dark) from either form: a matrix, or samples (0 dark, 255 light)."""
    return symbol if symbol.dtype == np.bool_ else symbol < 128


def image_mask_operators(symbol: np.ndarray, x: float, y: float, size: float) -> bytes:
    """Content-stream operators painting ``symbol``'s dark modules in a ``size`` x ``size`` square whose
    lower-left corner is (x, y), in points. ``symbol`` is a boolean matrix (True dark) or 8-bit samples
    (0 dark, 255 light)."""
    rows, columns = symbol.shape
    # ImageMask paints where a sample is 0: light modules are 1. Packing samples sets a bit for any
    # nonzero byte, so zxing-cpp's light samples (255) pack to 1 as they are.
    packed = np.packbits(~symbol if symbol.dtype == np.bool_ else symbol, axis=1).tobytes()
    # Binary sample data: the content stream is Flate-compressed anyway. "EI" is found after exactly
    # rows * bytes-per-row bytes, so the data may contain any byte.
    return _image_header(rows, columns, x, y, size) + packed + b"\nEI Q\n"


@lru_cache(maxsize=256)
def _image_header(rows: int, columns: int, x: float, y: float, size: float) -> bytes:
    """The inline image's operators up to its data: the same for every letter at one place and size."""
    width = number(size * columns / max(rows, columns))
    height = number(size * rows / max(rows, columns))
    return b"q %s 0 0 %s %s %s cm BI /W %d /H %d /IM true /BPC 1 /D [0 1] /I false ID " % (
        width,
        height,
        number(x),
        number(y),
        columns,
        rows,
    )


def vector_operators(matrix: np.ndarray, x: float, y: float, size: float) -> bytes:
    """The same symbol as filled rectangles, one per horizontal run of dark modules, in a coordinate
    system scaled to one unit per module (small integers keep the stream short)."""
    matrix = _dark(matrix)
    rows, columns = matrix.shape
    module = size / max(rows, columns)
    padded = np.zeros((rows, columns + 2), dtype=np.int8)
    padded[:, 1:-1] = matrix
    steps = np.diff(padded, axis=1)
    start_rows, starts = np.nonzero(steps == 1)
    _, ends = np.nonzero(steps == -1)  # row-major order: the n-th end closes the n-th start
    bottoms = rows - 1 - start_rows
    runs = b"".join(
        b"%d %d %d 1 re\n" % run
        for run in zip(starts.tolist(), bottoms.tolist(), (ends - starts).tolist(), strict=True)
    )
    return b"q %s 0 0 %s %s %s cm\n%sf Q\n" % (number(module), number(module), number(x), number(y), runs)
