"""Luxembourg's national identification number (the 13-digit "matricule").

Layout, as the national register assigns it::

    YYYYMMDD  NNN  L  V
    │         │    │  └ Verhoeff check digit over the first 11 digits
    │         │    └─── Luhn check digit over the first 11 digits
    │         └──────── sequence number among people born that day
    └────────────────── birth date

Both check digits are computed over the same 11 digits (date and sequence), not over each other.
Luhn catches every single-digit error and most adjacent transpositions; Verhoeff (dihedral group D5)
catches all of both, so together a mistyped matricule almost never passes.

Luhn: from the right of the 11 digits, double every other digit starting with the rightmost, subtract 9
from a doubled digit above 9, sum everything; the check digit is what brings the sum to a multiple of 10.

Verhoeff: with the D5 multiplication table ``_D``, the position permutation ``_P`` (``_P[k]`` is the
base permutation applied k times) and the inverse table ``_INV``, ``c = 0``; for each digit ``d`` at
position ``i`` counted from the right starting at 1, ``c = _D[c][_P[i % 8][d]]``; the check digit is
``_INV[c]``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_INV = (0, 4, 3, 2, 1, 5, 6, 7, 8, 9)


def _position_permutations() -> tuple[tuple[int, ...], ...]:
    base = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)
    table = [tuple(range(10))]
    for _ in range(7):
        previous = table[-1]
        table.append(tuple(previous[base[digit]] for digit in range(10)))
    return tuple(table)


_P = _position_permutations()


# The hot path of a register import validates a million of these: the tables below are indexed by the
# ASCII code of a digit character, so the loops work on ``str.encode()`` bytes with no int() per digit.
_ZERO = ord("0")
# A digit doubled, minus 9 when that is above 9.
_DOUBLED = (0,) * _ZERO + tuple(2 * digit - 9 if digit > 4 else 2 * digit for digit in range(10))
# The permutation for each position counted from the right, from 1, again indexed by ASCII code.
_P_BY_POSITION = tuple((0,) * _ZERO + _P[position % 8] for position in range(1, 17))


def luhn_digit(digits: str) -> int:
    """The Luhn check digit to append to ``digits``."""
    data = digits.encode("ascii")
    doubled = data[-1::-2]
    plain = data[-2::-2]
    total = sum(map(_DOUBLED.__getitem__, doubled)) + sum(plain) - _ZERO * len(plain)
    return (10 - total % 10) % 10


def verhoeff_digit(digits: str) -> int:
    """The Verhoeff check digit to append to ``digits``."""
    check = 0
    for permutation, code in zip(_P_BY_POSITION, reversed(digits.encode("ascii")), strict=False):
        check = _D[check][permutation[code]]
    return _INV[check]


@cache
def _is_date(yyyymmdd: str) -> bool:
    try:
        dt.date(int(yyyymmdd[0:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return True


def make_matricule(birth_date: dt.date, sequence: int) -> str:
    """A valid matricule for a birth date and a sequence number (0-999)."""
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0-999, got {sequence}")
    stem = f"{birth_date:%Y%m%d}{sequence:03d}"
    return f"{stem}{luhn_digit(stem)}{verhoeff_digit(stem)}"


def matricule_problem(value: str) -> str | None:
    """Why ``value`` is not a valid matricule, or None when it is."""
    if len(value) != 13 or not value.isascii() or not value.isdigit():
        return "must be 13 digits"
    if not _is_date(value[:8]):
        return f"date part {value[0:4]}-{value[4:6]}-{value[6:8]} is not a date"
    stem = value[:11]
    if int(value[11]) != luhn_digit(stem):
        return "first check digit (Luhn) is wrong"
    if int(value[12]) != verhoeff_digit(stem):
        return "second check digit (Verhoeff) is wrong"
    return None


def matricule_birth_date(value: str) -> dt.date:
    """The birth date a valid matricule encodes."""
    return dt.date(int(value[0:4]), int(value[4:6]), int(value[6:8]))
