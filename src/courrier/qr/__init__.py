"""Our QR code encoder: numeric, alphanumeric and byte segments (ECI for text beyond ASCII), levels L,
M, Q and H, versions 1 to 40, a fixed mask or the standard's choice. Used by the composer (letters) and
by the certificates (EU DCC, level Q); it sits below both, needing nothing of the project.

zxing-cpp's encoder spends most of its time choosing segments and a mask and building its objects;
here segment plans, templates and placement orders are cached, so a symbol is little more than table
work (``segments`` and ``symbol`` describe the steps and the bit layout). Tests read symbols back
with zxing-cpp's decoder from pages rendered by Ghostscript (``tests/qr/``).
"""

from courrier.qr.segments import ALPHANUMERIC_SET
from courrier.qr.symbol import EC_LEVELS, MASKS, penalty, qr_image, qr_matrix

__all__ = ["ALPHANUMERIC_SET", "EC_LEVELS", "MASKS", "penalty", "qr_image", "qr_matrix"]
