"""Small-cell suppression: no count the ministry sees may single out fewer than :data:`SMALL_CELL`
people.

Primary suppression hides every count from 1 to 9 (:attr:`Withheld.SMALL`; the pages write
``< 10``). A zero is shown: it says that nobody is in the cell, which singles out no one, and a
dashboard full of ``< 10`` for days without bookings would hide what matters. Complementary
suppression: a table whose rows or columns add up to a total that is shown would give a lone hidden
cell away by subtraction, so wherever exactly one cell of a row (or of a column) is hidden, the
smallest other non-zero cell of that row (or column) is hidden too (:attr:`Withheld.TOTAL`: it may be
any size, so the pages write ``x``, not ``< 10``), until no row or column has a lone hidden cell.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Mapping
from typing import TypeVar

SMALL_CELL = 10
# The key of a total in :func:`suppress_with_totals`.
ALL = "*"
R = TypeVar("R", bound=Hashable)
C = TypeVar("C", bound=Hashable)


class Withheld(enum.Enum):
    """A count not shown: below :data:`SMALL_CELL`, or hidden so that such a count cannot be worked
    out from a total."""

    SMALL = "small"
    TOTAL = "total"


Count = int | Withheld


def suppress(count: int) -> Count:
    """The count as the ministry may see it: withheld from 1 to 9."""
    return Withheld.SMALL if 0 < count < SMALL_CELL else count


def suppress_table(
    cells: Mapping[tuple[R, C], int], *, axes: tuple[int, ...] = (0, 1)
) -> dict[tuple[R, C], Count]:
    """Every cell of a table of counts keyed by (row, column), with the primary and complementary
    suppression above; the groups whose totals may be shown are the rows (axis 0) and the columns
    (axis 1), or only those ``axes`` name (``(1,)``: each column, e.g. a column of counts with its total
    in its last row)."""
    shown: dict[tuple[R, C], Count] = {key: suppress(count) for key, count in cells.items()}
    changed = True
    while changed:
        changed = False
        for axis in axes:
            groups: dict[object, list[tuple[R, C]]] = {}
            for key in cells:
                groups.setdefault(key[axis], []).append(key)
            for keys in groups.values():
                hidden = [key for key in keys if isinstance(shown[key], Withheld)]
                visible = [key for key in keys if not isinstance(shown[key], Withheld) and cells[key] > 0]
                if len(hidden) == 1 and visible:
                    shown[min(visible, key=lambda key: cells[key])] = Withheld.TOTAL
                    changed = True
    return shown


def suppress_with_totals(cells: Mapping[tuple[R, C], int]) -> dict[tuple[R | str, C | str], Count]:
    """:func:`suppress_table` over the table with its totals as cells of their own row and column:
    each row's (``(row, ALL)``), each column's (``(ALL, column)``) and the grand total (``(ALL, ALL)``).
    A page may then show any of those totals beside the cells: a row with its total is one group, so
    no withheld cell of it is the total less the others, and no shown total gives one away."""
    full: dict[tuple[R | str, C | str], int] = {}
    for (row, column), count in cells.items():
        full[(row, column)] = count
        full[(row, ALL)] = full.get((row, ALL), 0) + count
        full[(ALL, column)] = full.get((ALL, column), 0) + count
    full[(ALL, ALL)] = sum(cells.values())
    return suppress_table(full)


def suppress_rate(part: int, whole: int) -> float | None:
    """``part / whole`` when both counts may be shown (and ``whole`` is not zero), else ``None``."""
    if whole == 0 or isinstance(suppress(part), Withheld) or isinstance(suppress(whole), Withheld):
        return None
    return part / whole


def shown_value(count: Count) -> int | None:
    """The count, or ``None`` when it is withheld (what a chart draws)."""
    return None if isinstance(count, Withheld) else count
