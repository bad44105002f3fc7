"""Letters' QR codes, made by our encoder (``courrier.qr``), read back by zxing-cpp from pages rendered
by Ghostscript: any content, at every error correction level, fixed or chosen mask, up to the versions a
120 mm code holds at 150 dpi."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courrier.compose import compose_job, load_template
from courrier.compose.template import Template

from .conftest import PdfTools, record

LEVELS = ("L", "M", "Q", "H")


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Template]:
    made = {}
    for level in LEVELS:
        for mask in ("2", '"auto"'):
            folder = tmp_path_factory.mktemp(f"qr-{level}")
            (folder / "template.toml").write_text(
                'languages = ["de"]\n[[pages]]\n[[pages.elements]]\ntype = "qr"\nx = 20\ny = 20\n'
                f'width = 120\nec = "{level}"\nmask = {mask}\ntext = "{{{{ qr }}}}"\n',
                encoding="utf-8",
            )
            made[level, mask] = load_template(folder)
    return made


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.one_of(
        st.text(st.sampled_from("23456789ABCDEFGHJKMNPQRSTUVWXYZ"), min_size=1, max_size=300).map(
            lambda code: f"https://rdv.example.lu/c/{code}"
        ),
        st.text(st.characters(codec="ascii", min_codepoint=32), min_size=1, max_size=1000),
        st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=200),
    ),
    level=st.sampled_from(LEVELS),
    mask=st.sampled_from(["2", '"auto"']),
)
def test_a_letters_qr_code_reads_back_from_the_rendered_page(
    templates: dict[tuple[str, str], Any], tmp_path: Path, content: str, level: str, mask: str
):
    pdf = tmp_path / "job.pdf"
    result = compose_job(templates[level, mask], [record(1, "Schmit") | {"qr": content}], pdf)
    if result.failures:  # too long for version 40 at this level
        assert result.failures[0].error_code == "barcode_error", result.failures
        assert len(content.encode()) > 1200
        return
    page = PdfTools().render(pdf, 1, 150)
    found = [
        code
        for code in zxingcpp.read_barcodes(page, text_mode=zxingcpp.TextMode.Plain)
        if code.format == zxingcpp.BarcodeFormat.QRCode
    ]
    assert [code.text for code in found] == [content]
    assert found[0].extra["ECLevel"] == level
