"""Our alphanumeric level-Q encoder makes zxing-cpp's symbol, module for module, and it reads back.

zxing-cpp writes a long enough run of digits in numeric mode (a text of digits alone, or a run of some
ten digits inside), where we keep one alphanumeric segment: the comparison module for module is on
texts without such a run, as an ``HC1:`` string is nearly always; every text must read back.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import zxingcpp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from courrier.certificates.qrcode import ALPHANUMERIC, qr_matrix


def _zxing(text: str) -> np.ndarray:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="Q", dataMask="2")
    return np.asarray(barcode.to_image(scale=1, add_quiet_zones=False)) < 128


@pytest.mark.parametrize("length", [16, 27, 28, 61, 100, 263, 264, 400, 550, 700, 1000, 1600, 2420])
def test_the_same_symbol_as_zxing(length: int):
    text = ("HC1:" + ALPHANUMERIC[10:] * 60)[:length]
    ours = qr_matrix(text)
    assert ours.shape == _zxing(text).shape
    assert (ours == _zxing(text)).all()


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHANUMERIC, max_size=900))
def test_an_hc1_like_text_the_same_symbol_as_zxing(text: str):
    assume(not re.search(r"[0-9]{6}", text))
    assert (qr_matrix("HC1:" + text) == _zxing("HC1:" + text)).all()


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHANUMERIC, min_size=1, max_size=900))
def test_any_alphanumeric_text_reads_back(text: str):
    ours = qr_matrix(text)
    picture = Image.fromarray((~np.pad(ours, 4) * 255).astype(np.uint8)).resize(
        ((ours.shape[0] + 8) * 4,) * 2, Image.Resampling.NEAREST
    )
    found = [f for f in zxingcpp.read_barcodes(picture) if f.format == zxingcpp.BarcodeFormat.QRCode]
    assert [f.text for f in found] == [text]
    assert found[0].extra["ECLevel"] == "Q"


@pytest.mark.parametrize("text", ["hc1:", "HC1:é", "A" * 2421])
def test_what_it_cannot_encode_is_refused(text: str):
    with pytest.raises(ValueError):  # noqa: PT011
        qr_matrix(text)
