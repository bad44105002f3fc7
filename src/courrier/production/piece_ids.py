"""The piece id as printed and scanned: ASCII digits, a dash, and a check digit (``4711-8``).

A returned envelope is scanned or typed back by its printed id. Without a check character, a scan that
lost a digit (``471`` for ``4711``) is another piece's id, accepted when that piece exists, and someone
else's address is marked unknown. The check digit is the Damm algorithm's: it catches every single wrong
digit and every swap of two neighbouring digits, and the dash before it means that a scan cut short
loses the check digit first and is refused rather than read as a shorter id.

Only ASCII digits are digits here: Python's ``str.isdigit`` and ``int`` also take ``٥``, ``５`` or
``²``, which no scanner of ours prints.
"""

from __future__ import annotations

import re

from courrier.errors import InputFileError

# The Damm algorithm's quasigroup of order 10 (a weakly totally anti-symmetric one).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_PRINTED = re.compile(r"([0-9]{1,10})-([0-9])")
MAX_PIECE_ID = 2**31 - 1  # the database's integer


def check_digit(digits: str) -> str:
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][ord(digit) - 48]
    return str(interim)


def format_piece_id(piece_id: int) -> str:
    """``4711`` as printed: ``4711-8``."""
    digits = str(piece_id)
    return f"{digits}-{check_digit(digits)}"


def parse_piece_id(text: str) -> int:
    """The piece id of a printed or scanned one; :class:`InputFileError` (``bad_piece_id``) unless it is
    ASCII digits, a dash and the right check digit."""
    match = _PRINTED.fullmatch(text.strip())
    if match is None:
        raise InputFileError(
            f"{text[:30]!r} is not a piece id (digits, a dash, a check digit: 4711-8)", code="bad_piece_id"
        )
    digits, check = match.groups()
    if check_digit(digits) != check or int(digits) > MAX_PIECE_ID:
        raise InputFileError(
            f"{text[:30]!r}: the check digit does not match (a digit misread, lost or swapped)",
            code="bad_check_digit",
        )
    return int(digits)
