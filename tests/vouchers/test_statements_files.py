"""A statement's PDF and CSV, and the SEPA file, from synthetic rows (no database): what the
establishment and the ministry's bank would open."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from courrier.compose.check import check_template
from courrier.compose.sandbox import escape_markup
from courrier.errors import InputFileError
from courrier.vouchers.sepa import Payer, credit_transfer, read_transfers, validate_credit_transfer
from courrier.vouchers.statement_files import (
    CORRECTION,
    REDEMPTION,
    ROWS_PER_PAGE,
    Payee,
    Statement,
    StatementLine,
    _Cells,
    euros,
    statement_csv,
    statement_pdf,
    statement_template,
)

from ..compose.conftest import PdfTools

ISSUED_AT = dt.datetime(2026, 4, 1, 5, 0, tzinfo=dt.UTC)
PAYER = Payer("Ministère de l'Économie", "LU280019400644750000", "BCEELULL")


def payee(establishment_id: str = "H7", **other: str) -> Payee:
    fields = {
        "name": "Hôtel du Parc Belle-Vue",
        "iban": "LU120010001234567891",
        "licence": "H-2021-0042",
        "street": "avenue de la Gare",
        "house_number": "5",
        "postcode": "L-1611",
        "locality": "Luxembourg",
    } | other
    return Payee(establishment_id, **fields)  # type: ignore[arg-type]


def statement(lines: int, corrections: int = 0, *, number: str = "20260301-00007", **other: str) -> Statement:
    rows = []
    for n in range(1, lines + 1):
        day = dt.date(2026, 3, 1) + dt.timedelta(days=n % 31)
        rows.append(
            StatementLine(n, REDEMPTION, 1000 + n, day, day, day + dt.timedelta(days=2), f"BK-{n:05d}", 5000)
        )
    for n in range(lines + 1, lines + corrections + 1):
        day = dt.date(2026, 3, 2)
        rows.append(
            StatementLine(
                n,
                CORRECTION,
                900 + n,
                day,
                dt.date(2026, 2, 27),
                dt.date(2026, 2, 28),
                "BK-old",
                -5000,
                "20260201-00007",
            )
        )
    return Statement(
        number, payee(**other), dt.date(2026, 3, 1), dt.date(2026, 3, 31), ISSUED_AT, tuple(rows)
    )


def transfer(statements: list[Statement], message_id: str) -> bytes:
    return credit_transfer(
        PAYER, statements, message_id=message_id, created_at=ISSUED_AT, execution_date=dt.date(2026, 4, 2)
    )


def write_pdf(tmp_path: Path, made: Statement) -> tuple[Path, int]:
    out = io.BytesIO()
    pages = statement_pdf(made, out)
    path = tmp_path / f"{made.number}.pdf"
    path.write_bytes(out.getvalue())
    return path, pages


def test_the_statement_template_passes_template_check():
    assert [p for p in check_template(statement_template()) if p.severity == "error"] == []


@pytest.mark.parametrize(("lines", "pages"), [(1, 1), (ROWS_PER_PAGE, 1), (ROWS_PER_PAGE + 1, 2), (75, 3)])
def test_a_statement_has_a_page_per_thirty_lines_and_its_total_on_the_last(tmp_path, lines, pages):
    tools = PdfTools()
    made = statement(lines)
    path, made_pages = write_pdf(tmp_path, made)
    tools.check(path)
    assert made_pages == pages == made.pages
    with tools.render(path, pages, resolution=50) as image:  # a real RIP renders the last page: not blank
        assert image.getextrema()[0] < 64
    text = tools.text(path)
    assert text.count("Relevé n°") == pages  # the header on every page
    assert f"page {pages}/{pages}" in text
    assert "BK-00001" in text
    assert f"BK-{lines:05d}" in text
    total = f"{lines * 50:,}".replace(",", ".") + ",00"
    assert f"Total du relevé {total}" in text.replace("\xa0", " ").replace("\u202f", ".")


def test_the_pdf_total_and_the_csv_both_add_up_to_the_lines(tmp_path):
    made = statement(40, corrections=2)
    assert made.total_cents == sum(line.amount_cents for line in made.lines) == 38 * 5000
    rows = list(csv.DictReader(io.StringIO(statement_csv(made).decode("utf-8"))))
    assert len(rows) == 42
    assert sum(round(float(row["amount"]) * 100) for row in rows) == made.total_cents
    assert [row["kind"] for row in rows[-2:]] == [CORRECTION, CORRECTION]
    assert rows[-1]["corrects"] == "20260201-00007"
    assert rows[-1]["amount"] == "-50.00"
    path, _ = write_pdf(tmp_path, made)
    text = PdfTools().text(path).replace("\xa0", " ").replace("\u202f", ".")
    assert "Total du relevé 1.900,00 €" in text
    assert "Annulé, relevé 20260201-00007" in text
    assert "40 bons · 2 corrections" in text


def test_the_same_statement_gives_the_same_bytes():
    made = statement(45, corrections=1)
    first, second = io.BytesIO(), io.BytesIO()
    statement_pdf(made, first)
    statement_pdf(made, second)
    assert first.getvalue() == second.getvalue()
    assert statement_csv(made) == statement_csv(made)


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("fr", "Relevé de remboursement"),
        ("de", "Erstattungsabrechnung"),
        ("en", "Reimbursement statement"),
        ("pt", "Extrato de reembolso"),
        ("lb", "Rembourséierungsopstellung"),
    ],
)
def test_a_statement_is_written_in_the_establishments_language(tmp_path, language, title):
    path, _ = write_pdf(tmp_path, statement(3, language=language))
    assert title in PdfTools().text(path)


@pytest.mark.parametrize("language", ["fr", "de", "en", "pt", "lb"])
def test_a_correction_names_the_statement_it_corrects_in_every_language(tmp_path, language):
    path, _ = write_pdf(tmp_path, statement(2, corrections=1, language=language))
    (words,) = [w for w in PdfTools().words(path) if w.text == "20260201-00007"]  # the number whole
    assert words.right_mm <= 90 + 50 + 0.5  # inside the reference column


@pytest.mark.parametrize("language", ["fr", "de", "en", "pt", "lb"])
@pytest.mark.parametrize("country", ["LU", "DE"])
def test_a_rows_dates_and_amounts_are_what_the_templates_filters_print(language, country):
    """The rows come formatted (each value once, not through the filters in every cell): what the
    template's own ``date('short')`` and ``money`` print, whatever the language and country (both then
    escaped for the markup as any placeholder's value: a negative amount's leading ``-``)."""
    template = statement_template()
    cells = _Cells(language, country, template.strings[language])
    context = {"language": language, "person": {"country": country}}
    for day in (dt.date(2026, 3, 1), dt.date(2026, 12, 24)):
        printed = template.compiled("{{ day | date('short') }}").render(context | {"day": day})
        assert escape_markup(cells.date(day)) == printed
    for cents in (5000, -5000, 123456789, 1):
        printed = template.compiled("{{ amount | money }}").render(context | {"amount": euros(cents)})
        assert escape_markup(cells.money(cents)) == printed


def test_a_long_reference_is_cut_to_its_column_and_kept_whole_in_the_csv(tmp_path):
    long = "W" * 64
    made = statement(2)
    made = Statement(
        made.number,
        made.payee,
        made.period_from,
        made.period_to,
        made.issued_at,
        (
            made.lines[0],
            StatementLine(
                2, REDEMPTION, 77, dt.date(2026, 3, 5), dt.date(2026, 3, 5), dt.date(2026, 3, 6), long, 5000
            ),
        ),
    )
    path, _ = write_pdf(tmp_path, made)
    words = [w for w in PdfTools().words(path) if w.text.startswith("WWW")]
    assert len(words) == 1
    assert words[0].text.endswith("…")
    assert words[0].right_mm <= 90 + 50 + 0.5  # inside the reference column
    assert long in statement_csv(made).decode()


# Each example composes a PDF: fewer than Hypothesis's hundred.
@settings(max_examples=40)
@given(st.text(max_size=64))
def test_any_reference_composes_and_survives_the_csv(reference):
    made = statement(1)
    line = made.lines[0]
    made = Statement(
        made.number,
        made.payee,
        made.period_from,
        made.period_to,
        made.issued_at,
        (StatementLine(1, REDEMPTION, 1, line.on, line.stay_from, line.stay_to, reference, 5000),),
    )
    assert statement_pdf(made, io.BytesIO()) == 1  # never a page refused, never a page missing
    (row,) = csv.DictReader(io.StringIO(statement_csv(made).decode("utf-8"), newline=""))
    read = row["reference"]
    if reference.startswith(("=", "+", "-", "@", "\t", "\r")):
        assert read == "'" + reference
    else:
        assert read == reference


# --- SEPA ---


def test_the_sepa_file_pays_each_statement_its_total_and_validates():
    statements = [statement(40, number="20260301-00001"), statement(3, 1, number="20260301-00002")]
    xml = transfer(statements, "COURRIER-20260301")
    validate_credit_transfer(xml)
    transfers = read_transfers(xml)
    assert transfers.amounts_cents == {s.number: s.total_cents for s in statements}
    assert transfers.total_cents == sum(s.total_cents for s in statements) == 42 * 5000
    assert transfers.count == 2
    assert b"<ReqdExctnDt>2026-04-02</ReqdExctnDt>" in xml
    assert b"<CreDtTm>2026-04-01T05:00:00</CreDtTm>" in xml


def test_the_sepa_file_validates_against_the_schema_with_an_independent_validator():
    from importlib import resources

    from lxml import etree as lxml_etree  # pikepdf's dependency: libxml2's own validator

    xml = transfer([statement(2)], "M1")
    with resources.as_file(resources.files("sepaxml").joinpath("schemas", "pain.001.001.03.xsd")) as xsd:
        schema = lxml_etree.XMLSchema(lxml_etree.parse(str(xsd)))
    assert schema.validate(lxml_etree.fromstring(xml)), schema.error_log


def test_a_statement_that_pays_nothing_has_no_transfer():
    nothing = statement(1, 1, number="20260301-00003")
    assert nothing.total_cents == 0
    xml = transfer([statement(1), nothing], "M2")
    assert set(read_transfers(xml).amounts_cents) == {"20260301-00007"}


def test_the_same_run_gives_the_same_sepa_bytes():
    def made() -> bytes:
        return transfer([statement(5)], "M3")

    assert made() == made()


def test_names_are_written_in_the_sepa_character_set():
    xml = credit_transfer(
        PAYER,
        [statement(1, name="Camping Ösling & Fils * Sàrl")],
        message_id="M4",
        created_at=ISSUED_AT,
        execution_date=dt.date(2026, 4, 2),
    )
    assert b"<Nm>Camping Osling Fils Sarl</Nm>" in xml
    assert b"<Nm>Ministere de l'Economie</Nm>" in xml


def test_a_file_the_schema_refuses_is_refused():
    xml = transfer([statement(1)], "M5")
    with pytest.raises(InputFileError) as refused:
        validate_credit_transfer(xml.replace(b"<IBAN>LU12", b"<IBAN>lu12"))
    assert refused.value.code == "sepa_invalid"
    with pytest.raises(InputFileError) as refused:
        read_transfers(xml.replace(b"<CtrlSum>50.00</CtrlSum><Initg", b"<CtrlSum>60.00</CtrlSum><Initg"))
    assert refused.value.code == "sepa_invalid"


def test_a_statement_embeds_only_the_faces_and_glyphs_it_uses(tmp_path):
    """The template names an italic face it sets no text in: not embedded. The two faces used are
    subsets of their glyphs with their metrics and characters only: a three-page statement was 82 KB
    when every subset kept the whole font's metrics and cmap, and an empty italic subset was in it."""
    import pikepdf
    from fontTools.ttLib import TTFont

    path, _ = write_pdf(tmp_path, statement(75, corrections=3))
    PdfTools().check(path)
    assert path.stat().st_size < 34_000
    with pikepdf.open(path) as pdf:
        fonts = dict(pdf.pages[0].Resources.Font.items())
        names = sorted(str(font.BaseFont).split("+")[1] for font in fonts.values())
        assert names == ["DejaVuSans", "DejaVuSans-Bold"]
        for font_object in fonts.values():
            program = font_object.DescendantFonts[0].FontDescriptor.FontFile2.read_bytes()
            font = TTFont(io.BytesIO(program))
            characters = {chr(code) for code in font.getBestCmap()}
            assert {"0", "5", "€", "é"} <= characters
            assert len(characters) < 120
