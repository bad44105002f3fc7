"""The composer's output as a print shop and a recipient meet it."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import pikepdf
import pytest

from courrier.codes.keys import new_keys
from courrier.codes.token import sign_token, verify_token
from courrier.compose import address_lines, compose_job, load_template
from courrier.compose.template import ENVELOPES

from .conftest import EXAMPLES, record

NAMES = [
    ("Ngô", "Thị Lan"),
    ("Łukasz", "Kowalski"),
    ("Øystein", "Berg"),
    ("Ağaoğlu", "Ayşe"),
    ("Ζωή", "Παπαδοπούλου"),
    ("Фёдор", "Иванов"),
    ("Müller", "Jean-Claude"),
    ("O'Brien-Fernández", "Gonçalves"),
]


@pytest.fixture(scope="module")
def vaccination():
    return load_template(EXAMPLES / "vaccination")


def mark(index: int, _record: object, sheet: int, sheets: int) -> str:
    return f"C1|J000001|{index + 1:06d}|{sheet}/{sheets}|{'E' if sheet == sheets else 'C'}"


def test_every_name_and_code_survives_to_paper(vaccination, pdf_tools, tmp_path: Path):
    records = [record(n + 1, family, given) for n, (family, given) in enumerate(NAMES)]
    pdf = tmp_path / "job.pdf"
    result = compose_job(vaccination, records, pdf, job_id="J000001", sheet_marks=mark)
    assert result.letters == len(NAMES)
    assert result.pages == len(NAMES)
    pdf_tools.check(pdf)
    text = pdf_tools.text(pdf)
    for family, given in NAMES:
        assert f"{given} {family}" in text, family
    for page, item in enumerate(records, start=1):
        codes = pdf_tools.barcodes(pdf, page)
        assert codes["QRCode"] == item["qr"]
        assert codes["DataMatrix"] == f"C1|J000001|{page:06d}|1/1|E"


def test_the_address_lies_in_the_envelope_window(vaccination, pdf_tools, tmp_path: Path):
    records = [
        record(
            1,
            "Kowalski",
            "Łukasz",
            street="Trierer Straße",
            house_number="21",
            postcode="54290",
            locality="Trier",
            country="DE",
        )
    ]
    pdf = tmp_path / "job.pdf"
    compose_job(vaccination, records, pdf)
    window = ENVELOPES["C5_DIN5008_B"]
    words = pdf_tools.words(pdf)
    address = [
        w
        for w in words
        if w.text in {"Łukasz", "Kowalski", "Trierer", "Straße", "21", "54290", "Trier", "ALLEMAGNE"}
    ]
    assert {w.text for w in address} >= {"Łukasz", "Kowalski", "54290", "ALLEMAGNE"}
    for word in address:
        assert window.x <= word.x_mm <= window.x + window.width, word
        assert window.y <= word.y_mm <= window.y + window.height, word


def test_a_failing_letter_is_left_out_and_the_others_go_on(vaccination, pdf_tools, tmp_path: Path):
    records = [record(1, "Schmit"), record(2, "Wang 王"), record(3, "Weber")]
    records[2]["code"] = "X" * 300  # far too wide for its box
    pdf = tmp_path / "job.pdf"
    result = compose_job(vaccination, records, pdf)
    assert [p.ok for p in result.pieces] == [True, False, False]
    assert (result.pieces[1].error_code, result.pieces[1].error_field) == ("missing_glyph", "address")
    assert result.pieces[2].error_code == "text_overflow"
    assert result.pages == 1
    pdf_tools.check(pdf)
    assert "Schmit" in pdf_tools.text(pdf)


def test_same_input_same_bytes(vaccination):
    records = [record(n, family) for n, (family, _) in enumerate(NAMES)]
    first, second = io.BytesIO(), io.BytesIO()
    compose_job(vaccination, records, first, job_id="J1")
    compose_job(vaccination, records, second, job_id="J1")
    assert hashlib.sha256(first.getvalue()).digest() == hashlib.sha256(second.getvalue()).digest()


def test_one_dpart_per_letter_and_an_output_intent(vaccination, tmp_path: Path):
    pdf = tmp_path / "job.pdf"
    compose_job(vaccination, [record(n, f"Name{n}") for n in range(1, 6)], pdf)
    with pikepdf.open(pdf) as document:
        root = document.Root
        assert root.OutputIntents[0].S == "/GTS_PDFX"
        parts = root.DPartRoot.DPartRootNode.DParts[0]
        assert len(parts) == 5
        for number, part in enumerate(parts):
            assert part.Start.objgen == document.pages[number].obj.objgen
            assert str(part.DPM.CIP4_Root.CIP4_Recipient.CIP4_UniqueID) == str(number + 1)


def test_fonts_are_embedded_subset_with_a_unicode_map(vaccination, tmp_path: Path):
    pdf = tmp_path / "job.pdf"
    compose_job(vaccination, [record(1, "Фёдор")], pdf)
    with pikepdf.open(pdf) as document:
        fonts = document.pages[0].Resources.Font
        for font in fonts.values():
            assert font.Subtype == "/Type0"
            assert font.Encoding == "/Identity-H"
            assert "/ToUnicode" in font
            assert str(font.BaseFont)[7] == "+"  # a subset tag: ABCDEF+DejaVuSans
            assert "/FontFile2" in font.DescendantFonts[0].FontDescriptor


@pytest.mark.parametrize("language", ["fr", "de", "en", "pt", "lb"])
def test_each_language_reads_its_own_letter(vaccination, pdf_tools, tmp_path: Path, language):
    pdf = tmp_path / f"{language}.pdf"
    compose_job(vaccination, [record(1, "Schmit", language=language)], pdf)
    expected = {
        "fr": "26 mars 2026",
        "de": "26. März 2026",
        "en": "26 March 2026",
        "pt": "26 de março de 2026",
        "lb": "26. Mäerz 2026",  # its own letter now, no longer the German one
    }[language]
    assert expected in pdf_tools.text(pdf)


def test_duplex_letters_count_sheets(tmp_path: Path):
    folder = tmp_path / "two-pages"
    folder.mkdir()
    (folder / "template.toml").write_text(
        'languages = ["fr"]\n[page]\nduplex = true\n'
        '[[pages]]\n[[pages.elements]]\ntype = "address"\n'
        '[[pages]]\n[[pages.elements]]\ntype = "text"\nx = 20\ny = 20\ntext = "Page 2 {{ code }}"\n'
        '[[pages]]\n[[pages.elements]]\ntype = "text"\nx = 20\ny = 20\ntext = "Page 3"\n',
        encoding="utf-8",
    )
    result = compose_job(load_template(folder), [record(1, "Schmit"), record(2, "Weber")], io.BytesIO())
    assert [(p.pages, p.sheets) for p in result.pieces] == [(3, 2), (3, 2)]
    assert result.sheets == 4


def test_vector_barcodes_read_back_like_image_masks(vaccination, pdf_tools, tmp_path: Path):
    # The image mask is the default (smaller, faster: bench/compose.py --barcodes); the vector form
    # must be just as readable for a printer whose RIP prefers vectors.
    records = [record(n + 1, family, given) for n, (family, given) in enumerate(NAMES[:3])]
    pdf = tmp_path / "vector.pdf"
    result = compose_job(vaccination, records, pdf, job_id="J000002", sheet_marks=mark, barcodes="vector")
    assert result.letters == 3
    pdf_tools.check(pdf)
    for page, item in enumerate(records, start=1):
        codes = pdf_tools.barcodes(pdf, page)
        assert codes["QRCode"] == item["qr"]
        assert codes["DataMatrix"] == f"C1|J000001|{page:06d}|1/1|E"


def test_an_empty_date_fails_the_letter_rather_than_print_valid_until_nothing(vaccination):
    letters = [record(1, "Schmit"), record(2, "Weber")]
    letters[1]["valid_until"] = ""
    result = compose_job(vaccination, letters, io.BytesIO())
    assert result.pieces[0].ok
    assert result.pieces[1].error_code == "missing_value"
    assert result.pieces[1].error_field  # the element that needed the date


def test_every_address_line_of_every_letter_lies_in_the_window(vaccination, pdf_tools, tmp_path: Path):
    abroad = [
        {"country": "FR", "postcode": "57100", "locality": "Thionville", "street": "rue de Paris"},
        {"country": "BE", "postcode": "6700", "locality": "Arlon", "street": "Grand-Rue"},
        {"country": "DE", "postcode": "54290", "locality": "Trier", "street": "Trierer Straße"},
        {"care_of": "c/o Família Ferreira"},
    ]
    records = [
        record(n + 1, family, given, **abroad[n % len(abroad)]) for n, (family, given) in enumerate(NAMES)
    ]
    pdf = tmp_path / "job.pdf"
    assert compose_job(vaccination, records, pdf).letters == len(NAMES)
    window = ENVELOPES["C5_DIN5008_B"]
    words = pdf_tools.words(pdf)
    for page, item in enumerate(records, start=1):
        expected = " ".join(address_lines(item["person"])).split()
        # The recipient's words as they appear nearest the window (the salutation repeats the name).
        on_page = [w for w in words if w.page == page and 40 < w.y_mm < 95 and w.x_mm < 110]
        assert [w.text for w in on_page][-len(expected) :] == expected, page
        for word in on_page[-len(expected) :]:
            assert window.x <= word.x_mm, word
            assert word.right_mm <= window.x + window.width, word
            assert window.y <= word.y_mm <= window.y + window.height - 3, word


@pytest.mark.parametrize("language", ["fr", "de", "en", "pt", "lb"])
def test_a_hotel_checks_the_printed_voucher_offline(pdf_tools, tmp_path: Path, language: str):
    """The voucher's QR code, read from the printed page, is a signed token the hotel verifies with the
    public key alone: the right campaign and code, valid until the voucher's date."""
    keys = new_keys()
    token = sign_token(
        keys, campaign_id=3, code_id=41, valid_from=dt.date(2020, 7, 15), valid_until=dt.date(2020, 12, 31)
    )
    voucher = record(1, "Ağaoğlu", "Ayşe", language=language) | {
        "qr": token,
        "letter_date": "2020-07-15",
        "valid_from": "2020-07-15",
        "valid_until": "2020-12-31",
    }
    pdf = tmp_path / "voucher.pdf"
    result = compose_job(load_template(EXAMPLES / "voucher"), [voucher], pdf)
    assert result.letters == 1, result.failures
    pdf_tools.check(pdf)
    scanned = pdf_tools.barcodes(pdf, 1)["QRCode"]
    key_id = keys.signing_key_id
    claims = verify_token(scanned, {key_id: keys.public_key(key_id)}, today=dt.date(2020, 8, 1))
    assert (claims.campaign_id, claims.code_id, claims.valid_until) == (3, 41, dt.date(2020, 12, 31))
    assert "Ayşe Ağaoğlu" in pdf_tools.text(pdf)
