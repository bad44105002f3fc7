"""A reimbursement statement's two files, from its rows: the PDF (made by our composer) and the CSV.

Pure: no database, no clock. The same statement gives the same bytes, which is what lets an issued
statement's files be made again, identical, when one is lost (``statements.py`` keeps their sha256).

**The PDF** is composed from the template in ``statement/`` (``template.toml``, strings in five
languages), one record per page: every page carries the statement's header (the establishment in the
window, the number, the period, the total) and up to :data:`ROWS_PER_PAGE` lines of its table; the last
page its total. The template's elements named ``row_*`` are the table's first row: they are repeated down
the page here, each copy reading ``row`` from the page's ``rows``.

**The CSV** (UTF-8, comma-separated, a header line): ``statement, line, kind, redemption_id, date,
stay_from, stay_to, reference, corrects, amount``, one row per line of the statement. ``kind`` is
``redemption`` or ``correction`` (a redemption on an earlier statement, undone since: its amount
negative, ``corrects`` the number of that statement); ``date`` is the day redeemed, or undone; ``amount``
in euros with a point and two decimals (``50.00``, ``-50.00``). A reference starting with ``= + - @`` gets
a leading ``'`` so that a spreadsheet shows it rather than computing it.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from courrier.compose import Template, compose_job, load_template
from courrier.compose.fonts import load_face
from courrier.compose.formats import format_date, format_money
from courrier.compose.print_condition import GRAY
from courrier.compose.template import MM, Element
from courrier.country import HOME_COUNTRY
from courrier.errors import CompositionError

ROWS_PER_PAGE = 30
ROW_STEP_MM = 4.5
REDEMPTION = "redemption"
CORRECTION = "correction"
CSV_COLUMNS = (
    "statement",
    "line",
    "kind",
    "redemption_id",
    "date",
    "stay_from",
    "stay_to",
    "reference",
    "corrects",
    "amount",
)
_ROW_PREFIX = "row_"
_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Payee:
    """The establishment as the statement names it, kept with the statement when it is issued (an
    establishment that changes its account later does not change a statement)."""

    establishment_id: str
    name: str
    iban: str
    bic: str = ""
    licence: str = ""
    street: str = ""
    house_number: str = ""
    postcode: str = ""
    locality: str = ""
    country: str = "LU"
    language: str = "fr"


@dataclass(frozen=True)
class StatementLine:
    line: int
    kind: str  # REDEMPTION or CORRECTION
    redemption_id: int
    on: dt.date  # the day redeemed; for a correction, the day undone
    stay_from: dt.date
    stay_to: dt.date
    reference: str
    amount_cents: int  # negative for a correction
    corrects: str = ""  # a correction: the number of the statement the redemption was on


@dataclass(frozen=True)
class Statement:
    number: str
    payee: Payee
    period_from: dt.date
    period_to: dt.date
    issued_at: dt.datetime
    lines: tuple[StatementLine, ...]

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.lines) // ROWS_PER_PAGE))


def euros(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


# --- CSV ---


def statement_csv(statement: Statement) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: CRLF, and a field holding a CR or LF is quoted
    writer.writerow(CSV_COLUMNS)
    for line in statement.lines:
        writer.writerow(
            (
                statement.number,
                line.line,
                line.kind,
                line.redemption_id,
                line.on.isoformat(),
                line.stay_from.isoformat(),
                line.stay_to.isoformat(),
                _spreadsheet_safe(line.reference),
                line.corrects,
                f"{euros(line.amount_cents):.2f}",
            )
        )
    return out.getvalue().encode("utf-8")


def _spreadsheet_safe(text: str) -> str:
    return f"'{text}" if text.startswith(_SPREADSHEET_FORMULA) else text


# --- PDF ---


def statement_pdf(statement: Statement, out: BinaryIO) -> int:
    """Compose the statement into ``out``; its number of pages. A page the composer refuses (it should
    not: the table's texts are fitted to their columns) fails the whole statement, never leaves a
    statement with a page missing."""
    template = statement_template()
    result = compose_job(
        template,
        _page_records(statement, template),
        out,
        job_id=statement.number,
        created_at=statement.issued_at,
        # Read on screen or printed at an office printer: the black-ink output profile (1 KB) rather
        # than the press's CMYK one (a quarter of a megabyte in every statement).
        condition=GRAY,
    )
    if result.failures:
        failure = result.failures[0]
        raise CompositionError(
            f"statement {statement.number}, page {failure.piece_id}: {failure.error_message}"
            f" [{failure.error_code}]",
            code="statement_not_composed",
            field=failure.error_field,
        )
    return result.pages


@cache
def statement_template() -> Template:
    """The statement template, with its table's first row repeated down the page."""
    with resources.as_file(resources.files("courrier.vouchers").joinpath("statement")) as folder:
        loaded = load_template(Path(folder))
    return dataclasses.replace(loaded, pages=[list(_expanded(elements)) for elements in loaded.pages])


def _expanded(elements: Sequence[Element]) -> Iterator[Element]:
    for element in elements:
        if not element.name.startswith(_ROW_PREFIX):
            yield element
            continue
        for index in range(ROWS_PER_PAGE):
            yield dataclasses.replace(
                element,
                name=f"{element.name}.{index + 1}",
                y=element.y + index * ROW_STEP_MM,
                text=f"{{% if rows[{index}] %}}{{% with row = rows[{index}] %}}"
                f"{element.text}{{% endwith %}}{{% endif %}}",
            )


def _page_records(statement: Statement, template: Template) -> Iterator[dict[str, Any]]:
    payee = statement.payee
    reference_column = _reference_width(template)
    language = template.language_for(payee.language)
    cells = _Cells(language, payee.country or HOME_COUNTRY, template.strings.get(language, {}))
    common = {
        "number": statement.number,
        "person": {
            "family_name": payee.name,
            "street": payee.street,
            "house_number": payee.house_number,
            "postcode": payee.postcode,
            "locality": payee.locality,
            "country": payee.country,
            "language": payee.language,
        },
        "establishment": {"licence": payee.licence or "–", "iban": _grouped_iban(payee.iban)},
        "period_from": statement.period_from,
        "period_to": statement.period_to,
        "issued_on": statement.issued_at.date(),
        "pages": statement.pages,
        "total": cells.money(statement.total_cents),
        "lines": len(statement.lines),
        "redemptions": sum(1 for line in statement.lines if line.kind == REDEMPTION),
        "corrections": sum(1 for line in statement.lines if line.kind == CORRECTION),
    }
    for page in range(statement.pages):
        lines = statement.lines[page * ROWS_PER_PAGE : (page + 1) * ROWS_PER_PAGE]
        rows: list[dict[str, Any] | None] = [_row(line, reference_column, cells) for line in lines]
        rows += [None] * (ROWS_PER_PAGE - len(rows))
        yield {**common, "piece_id": f"{statement.number}/{page + 1}", "page": page + 1, "rows": rows}


def _row(
    line: StatementLine, reference_column: tuple[float, dict[str, int]], cells: _Cells
) -> dict[str, Any]:
    return {
        "line": line.line,
        "kind": line.kind,
        "on": cells.date(line.on),
        "stay": f"{cells.date(line.stay_from)} – {cells.date(line.stay_to)}",
        "reference": _fitted(line.reference, reference_column)
        if line.kind != CORRECTION
        else _correction(cells.correction, line.corrects, reference_column),
        "corrects": line.corrects,
        "redemption_id": line.redemption_id,
        "amount": cells.money(line.amount_cents),
    }


class _Cells:
    """A row's dates and amounts as the template's ``date('short')`` and ``money`` filters print them in
    the statement's language, each distinct value formatted once (a statement's lines share a few dozen
    days and, mostly, one amount)."""

    def __init__(self, language: str, country: str, strings: dict[str, Any]) -> None:
        self.language = language
        self.country = country
        self.correction = str(strings.get("correction", ""))
        self._dates: dict[dt.date, str] = {}
        self._amounts: dict[int, str] = {}

    def date(self, day: dt.date) -> str:
        found = self._dates.get(day)
        if found is None:
            # No-break spaces, as the filter's: a date is never split across two lines.
            found = format_date(day, self.language, "short", self.country).replace(" ", "\xa0")
            self._dates[day] = found
        return found

    def money(self, cents: int) -> str:
        found = self._amounts.get(cents)
        if found is None:
            found = self._amounts[cents] = format_money(euros(cents), self.language, "EUR", self.country)
        return found


def _reference_width(template: Template) -> tuple[float, dict[str, int]]:
    """The reference column's width in 1/1000 em of its text, and its font's advance widths."""
    element = next(e for e in template.pages[0] if e.name.startswith(f"{_ROW_PREFIX}reference"))
    return element.width * MM / element.size * 1000, load_face(template.fonts[element.style]).advance_by_char


def _fitted(text: str, column: tuple[float, dict[str, int]]) -> str:
    """The establishment's reference as it fits its column (cut, with an ellipsis, when it is longer; a
    character the font lacks as ``?``): the CSV has it whole."""
    width, advance = column
    shown = "".join(char if char in advance else "?" for char in " ".join(text.split()))
    if sum(advance[char] for char in shown) <= width:
        return shown
    budget = width - advance["…"]
    used = 0
    for cut, char in enumerate(shown):
        used += advance[char]
        if used > budget:
            return shown[:cut] + "…"
    return shown


def _correction(label: str, corrects: str, column: tuple[float, dict[str, int]]) -> str:
    """A correction's reference: the label, cut to what the column leaves beside the number of the
    statement it corrects, and that number whole (in German or English both did not fit)."""
    width, advance = column
    number = _fitted(corrects, column)
    room = width - sum(advance[char] for char in f" {number}")
    return f"{_fitted(label, (room, advance))} {number}" if room > advance["…"] else number


def _grouped_iban(iban: str) -> str:
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
