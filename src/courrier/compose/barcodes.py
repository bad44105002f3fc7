"""QR codes and Data Matrix symbols from zxing-cpp, drawn as 1-bit inline image masks.

One module is one image sample; the image is scaled to the symbol's size with ``/Interpolate false`` so a
RIP renders crisp modules at any resolution. Measured on the reference letter (``bench/compose.py
--barcodes vector``): as an image mask a letter costs 1,034 bytes at 3,237 letters/s; as vector
rectangles (one ``re`` per run of dark modules) 1,590 bytes at 2,274 letters/s. Both decode the same.

QR codes use one fixed mask pattern (2: every third column) unless a template asks for ``mask = "auto"``.
The encoder's own choice tries all eight masks and scores each by the standard's penalty rules: 0.19 ms
of the 0.46 ms a reference letter costs, against 0.04 ms for one mask. For what we encode (booking URLs
and tokens: random-looking data) the choice buys nothing measurable: over 300 booking URLs the penalty
score of mask 2 averaged 574 (worst 742) against 611 (worst 786) for the encoder's picks, and over 300
60-character tokens 639 (worst 832) against 610 (worst 821). The search matters for data with long
repeats, which a template can still ask for.
"""

from __future__ import annotations

import numpy as np
import zxingcpp

from courrier.compose.pdf import number
from courrier.errors import CompositionError

EC_LEVELS = ("L", "M", "Q", "H")
QR_MASKS = tuple(range(8))
DEFAULT_QR_MASK = 2


def qr_matrix(
    content: str, ec_level: str = "M", field: str = "qr", mask: int | None = DEFAULT_QR_MASK
) -> np.ndarray:
    """The QR symbol as a boolean array, True for a dark module, without quiet zone. ``mask`` None lets
    the encoder try all eight masks (see the module docstring)."""
    chosen = {} if mask is None else {"dataMask": str(mask)}
    return _matrix(content, zxingcpp.BarcodeFormat.QRCode, field, ec_level=ec_level, **chosen)


def datamatrix_matrix(content: str, field: str = "datamatrix") -> np.ndarray:
    """Always a square symbol: zxing-cpp would pick a rectangular one (12 x 26 modules) for some contents,
    half the height of the square the template reserves, with modules too small for an inserter's
    camera."""
    return _matrix(content, zxingcpp.BarcodeFormat.DataMatrix, field, forceSquare=True)


def _matrix(content: str, symbology: zxingcpp.BarcodeFormat, field: str, **options: str | bool) -> np.ndarray:
    if not content:
        raise CompositionError("the barcode has no content", code="empty_barcode", field=field)
    try:
        barcode = zxingcpp.create_barcode(content, symbology, **options)
    except (ValueError, RuntimeError) as error:
        raise CompositionError(
            f"cannot encode {content!r}: {error}", code="barcode_error", field=field
        ) from error
    return np.asarray(barcode.to_image(scale=1, add_quiet_zones=False)) < 128


def image_mask_operators(matrix: np.ndarray, x: float, y: float, size: float) -> bytes:
    """Content-stream operators painting ``matrix`` (dark modules) in a ``size`` x ``size`` square whose
    lower-left corner is (x, y), in points."""
    rows, columns = matrix.shape
    # ImageMask paints where a sample is 0: light modules are 1.
    packed = np.packbits(~matrix, axis=1).tobytes()
    width = number(size * columns / max(rows, columns))
    height = number(size * rows / max(rows, columns))
    # Binary sample data: the content stream is Flate-compressed anyway. "EI" is found after exactly
    # rows * bytes-per-row bytes, so the data may contain any byte.
    return (
        b"q %s 0 0 %s %s %s cm BI /W %d /H %d /IM true /BPC 1 /D [0 1] /I false ID "
        % (width, height, number(x), number(y), columns, rows)
        + packed
        + b"\nEI Q\n"
    )


def vector_operators(matrix: np.ndarray, x: float, y: float, size: float) -> bytes:
    """The same symbol as filled rectangles, one per horizontal run of dark modules, in a coordinate
    system scaled to one unit per module (small integers keep the stream short)."""
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
