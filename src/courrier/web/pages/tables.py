"""A table a dashboard shows, and the same table as CSV: one object renders both, so a download holds
exactly what the page shows (the same rows, the same suppressed cells, headings in the page's
language)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from babel.numbers import format_currency, format_decimal, format_percent
from fastapi.responses import StreamingResponse

from courrier.dashboards.suppression import Withheld

# A withheld count, on the page and in the CSV: below 10, or hidden so that one cannot be worked out.
WITHHELD = {Withheld.SMALL: "< 10", Withheld.TOTAL: "x"}
Value = int | float | str | Withheld


@dataclass(frozen=True)
class Percent:
    """A share (0 to 1) written as a percentage; ``None`` when a count it comes from is withheld
    (written ``x``: the share of a withheld count would give it away)."""

    share: float | None


@dataclass(frozen=True)
class Euros:
    """A sum of money in cents, written in euros; withheld with its count."""

    cents: int | Withheld


@dataclass
class Table:
    """``rows`` hold counts (or :class:`Withheld`), :class:`Percent` or text; ``numeric`` says which
    columns are numbers (right-aligned on the page)."""

    id: str
    caption: str
    headers: Sequence[str]
    rows: list[list[Value | Percent | Euros]] = field(default_factory=list)
    numeric: frozenset[int] = frozenset()

    def cells(self, language: str) -> Iterator[list[str]]:
        """Each row as the page writes it, in ``language``."""
        for row in self.rows:
            yield [page_text(value, language) for value in row]

    def csv_rows(self) -> Iterator[list[str]]:
        """The header and each row as the CSV holds it: numbers without grouping, shares with a dot."""
        yield list(self.headers)
        for row in self.rows:
            yield [csv_text(value) for value in row]


def page_text(value: Value | Percent | Euros, language: str) -> str:
    if isinstance(value, Euros):
        if isinstance(value.cents, Withheld):
            return WITHHELD[value.cents]
        return format_currency(value.cents / 100, "EUR", locale=language)
    if isinstance(value, Percent):
        if value.share is None:
            return WITHHELD[Withheld.TOTAL]
        return format_percent(value.share, "#,##0.0%", locale=language)
    if isinstance(value, Withheld):
        return WITHHELD[value]
    if isinstance(value, int | float):
        return format_decimal(value, locale=language)
    return value


def csv_text(value: Value | Percent | Euros) -> str:
    if isinstance(value, Euros):
        return WITHHELD[value.cents] if isinstance(value.cents, Withheld) else f"{value.cents / 100:.2f}"
    if isinstance(value, Percent):
        return WITHHELD[Withheld.TOTAL] if value.share is None else f"{value.share * 100:.1f}%"
    if isinstance(value, Withheld):
        return WITHHELD[value]
    return str(value)


def csv_response(rows: Iterable[Sequence[str]], filename: str) -> StreamingResponse:
    """A CSV download (UTF-8 with a byte-order mark, so a spreadsheet opens accents right), written as
    it is sent."""

    def lines() -> Iterator[str]:
        yield "\ufeff"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        for row in rows:
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
