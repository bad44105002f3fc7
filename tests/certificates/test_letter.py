"""The printed certificate of each kind (vaccination, test, recovery) in fr, de and en: one page from
our composer, valid (qpdf), rendered by Ghostscript, its QR (at least 35 mm with its quiet zone) read
back by zxing-cpp as the very ``HC1:`` string issued, and what it says written in the certificate's
language, value sets' codes by name; ``courrier dcc issue --pdf`` writes it for a certificate issued
from a file."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zxingcpp
from click.testing import CliRunner
from tests.certificates.conftest import NOW, RECORD_FILE
from tests.certificates.test_issue_kinds import PCR, RAPID, RECOVERY
from tests.compose.conftest import PdfTools

from courrier.certificates.issue import issue_certificate
from courrier.certificates.letter import TEMPLATE, certificate_pdf, value_name
from courrier.certificates.payload import DATA, read_facts
from courrier.certificates.pki import Signer
from courrier.certificates.verify import verify_hc1
from courrier.cli import courrier

RESOLUTION = 300
LANGUAGES = ("fr", "de", "en")
PERSON = {
    "id": 7,
    "family_name": "Ngô-D'Souza",
    "given_names": "Øystein",
    "sex": "M",
    "care_of": "",
    "house_number": "12",
    "street": "rue de la Gare",
    "postcode": "L-1611",
    "locality": "Luxembourg",
    "country": "LU",
}
# What each kind's page must say, per language: its subtitle, and codes named in that language.
EXPECTED = {
    "vaccination": {
        "fr": ["Vaccin contre la COVID-19", "Comirnaty", "Pays de vaccination : Luxembourg", "2/2"],
        "de": ["COVID-19-Impfstoff", "Comirnaty", "Land der Impfung: Luxemburg", "2/2"],
        "en": ["Vaccine type: COVID-19 vaccine", "Comirnaty", "Country of vaccination: Luxembourg"],
    },
    "pcr": {
        "fr": ["Test d’amplification des acides nucléiques", "Non détecté (négatif)", "Roche LightCycler"],
        "de": ["Nukleinsäure-Amplifikationstest", "Nicht nachgewiesen (negativ)", "Luxemburg"],
        "en": ["Nucleic acid amplification test", "Not detected (negative)", "17:05 (UTC+01:00)"],
    },
    "rapid": {
        "fr": ["Test antigénique rapide", "Panbio", "Laboratoire national de santé"],
        "de": ["Antigen-Schnelltest", "Panbio"],
        "en": ["Rapid antigen test", "Panbio"],
    },
    "recovery": {
        "fr": ["20 février 2026", "Valable du 3 mars 2026 au 19 août 2026"],
        "de": ["20. Februar 2026", "Gültig vom 3. März 2026 bis zum 19. August 2026"],
        "en": ["20 February 2026", "Valid from 3 March 2026 to 19 August 2026"],
    },
}
DOCUMENTS = {"vaccination": RECORD_FILE, "pcr": PCR, "rapid": RAPID, "recovery": RECOVERY}
SUBTITLE = {
    "vaccination": "subtitle",
    "pcr": "subtitle_test",
    "rapid": "subtitle_test",
    "recovery": "subtitle_recovery",
}


@pytest.fixture(scope="module")
def pdf_tools() -> PdfTools:
    return PdfTools()


def _strings(language: str) -> dict[str, Any]:
    return tomllib.loads((TEMPLATE / f"strings.{language}.toml").read_text(encoding="utf-8"))


def _qr_width_mm(image: Any, text: str) -> float:
    """The decoded symbol's width on the page, once its quiet zone (4 modules) is seen to be clear."""
    [found] = [r for r in zxingcpp.read_barcodes(image) if r.text == text]
    position = found.position
    corners = (position.top_left, position.top_right, position.bottom_left, position.bottom_right)
    xs, ys = [corner.x for corner in corners], [corner.y for corner in corners]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    module = (right - left) / (17 + 4 * int(found.extra["Version"]))
    margin = int(3.5 * module)
    band = np.asarray(image.convert("L"))[
        top - margin : bottom + margin, left - margin : right + margin
    ].copy()
    band[margin:-margin, margin:-margin] = 255
    assert band.min() > 128, "something is printed in the QR's quiet zone"
    return (right - left) / RESOLUTION * 25.4


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_each_kind_prints_in_each_language(kind: str, signer: Signer, pdf_tools: PdfTools, tmp_path: Path):
    issued = issue_certificate(read_facts(DOCUMENTS[kind]), signer, NOW)
    for language in LANGUAGES:
        pdf = tmp_path / f"{kind}-{language}.pdf"
        pdf.write_bytes(certificate_pdf(issued, PERSON | {"language": language}))
        pdf_tools.check(pdf)
        image = pdf_tools.render(pdf, 1, RESOLUTION)
        [hc1] = [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
        assert hc1 == issued.hc1
        assert _qr_width_mm(image, hc1) >= 35
        assert verify_hc1(hc1, [signer.trusted()], NOW, frozenset()).valid
        text = " ".join(pdf_tools.text(pdf).split())
        strings = _strings(language)
        assert strings["title"].replace("'", "’") in text
        assert strings[SUBTITLE[kind]] in text
        assert "Øystein Ngô-D'Souza" in text
        assert issued.uvci in text
        for expected in EXPECTED[kind][language]:
            assert expected.replace("\xa0", " ") in text, (kind, language, expected)
        assert "deprecated" not in text


def test_a_partial_birth_date_prints_as_the_payload_has_it(
    signer: Signer, pdf_tools: PdfTools, tmp_path: Path
):
    issued = issue_certificate(read_facts(RECORD_FILE | {"birth_date": "1964-08"}), signer, NOW)
    for language, shown in (("fr", "août 1964"), ("de", "August 1964"), ("en", "August 1964")):
        pdf = tmp_path / f"{language}.pdf"
        pdf.write_bytes(certificate_pdf(issued, PERSON | {"language": language}))
        assert f"{_strings(language)['birth_label']} {shown}" in " ".join(pdf_tools.text(pdf).split())


@pytest.mark.parametrize("value_set", ["vaccine-prophylaxis", "test-type", "test-result"])
def test_every_code_that_is_a_word_has_a_name_in_each_language(value_set: str):
    # The value sets name their codes in English only; a vaccine's or test's type and a result are
    # words, named in fr and de by us (certificate_template/value_sets.toml), countries by CLDR.
    document = json.loads((DATA / "valuesets" / f"{value_set}.json").read_text(encoding="utf-8"))
    for code, entry in document["valueSetValues"].items():
        names = {language: value_name(value_set, code, language) for language in LANGUAGES}
        assert names["fr"] != entry["display"], (code, names)
        assert names["de"] != entry["display"], (code, names)
        assert len(set(names.values())) == 3, (code, names)
    assert value_name("country-2-codes", "DE", "fr") == "Allemagne"
    assert value_name("country-2-codes", "BE", "de") == "Belgien"
    assert value_name("country-2-codes", "LU", "en") == "Luxembourg"
    assert value_name("vaccine-medicinal-product", "EU/1/20/1528", "de") == "Comirnaty"  # a name
    assert value_name("vaccine-prophylaxis", "no-such-code", "fr") == "no-such-code"


def test_dcc_issue_writes_the_printed_certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pdf_tools):
    monkeypatch.setenv("COURRIER_DCC_DIR", str(tmp_path / "dcc"))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(courrier, ["dcc", "init"]).exit_code == 0
    address = {
        "street": "rue de la Gare",
        "house_number": "12",
        "postcode": "L-1611",
        "locality": "Luxembourg",
    }
    (tmp_path / "test.json").write_text(json.dumps(PCR | {"address": address}), encoding="utf-8")
    done = runner.invoke(courrier, ["dcc", "issue", "test.json", "--pdf", "test.pdf", "--language", "de"])
    assert done.exit_code == 0, done.output
    hc1 = done.stdout.strip()
    pdf_tools.check(tmp_path / "test.pdf")
    assert pdf_tools.barcodes(tmp_path / "test.pdf", 1)["QRCode"] == hc1
    text = " ".join(pdf_tools.text(tmp_path / "test.pdf").split())
    assert "Testzertifikat" in text
    assert "L-1611 LUXEMBOURG" in text
    # Without an address there is no envelope to put it in: said, and nothing written.
    (tmp_path / "bare.json").write_text(json.dumps(PCR), encoding="utf-8")
    refused = runner.invoke(courrier, ["dcc", "issue", "bare.json", "--pdf", "bare.pdf", "--json"])
    assert refused.exit_code != 0
    assert json.loads(refused.stdout)["error"]["code"] == "dcc_invalid_record"
    assert not (tmp_path / "bare.pdf").exists()
