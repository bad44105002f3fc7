"""Our QR encoder makes zxing-cpp's symbol (same version, and module for module where both cut the
content into the same segments), and every symbol reads back with zxing-cpp's decoder.

zxing-cpp (zint) searches the cheapest segments character by character, ours run by run of one class
(``courrier.qr.segments``), so on mixed content the two may cut differently and still take the same
version; text beyond ASCII is written with an ECI by us (the decoder never guesses), without one or in
Kanji mode by zint. Rendered pages are read back in ``tests/compose/test_qr_codes.py``.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from courrier.qr import ALPHANUMERIC_SET, EC_LEVELS, MASKS, penalty, qr_image, qr_matrix
from courrier.qr.segments import ALPHANUMERIC, BYTE, COUNT_BITS, capacity_codewords, class_string, plan
from courrier.qr.symbol import penalties
from courrier.qr.tables import BLOCKS

URL_CODE = "https://rdv.example.lu/c/{}"
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _zxing(text: str, level: str = "M", mask: int = 2) -> np.ndarray:
    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level=level, dataMask=str(mask))
    return np.asarray(barcode.to_image(scale=1, add_quiet_zones=False)) < 128


def _read(symbol: np.ndarray) -> zxingcpp.Barcode:
    picture = Image.fromarray((~np.pad(symbol, 4) * 255).astype(np.uint8))
    picture = picture.resize(((symbol.shape[0] + 8) * 3,) * 2, Image.Resampling.NEAREST)
    # Plain: the text as encoded (the default writes control characters as "<US>" and the like).
    found_all = zxingcpp.read_barcodes(picture, text_mode=zxingcpp.TextMode.Plain, is_pure=True)
    (found,) = [f for f in found_all if f.format == zxingcpp.BarcodeFormat.QRCode]
    return found


def _version(symbol: np.ndarray) -> int:
    return (symbol.shape[0] - 17) // 4


def _longest(version: int, level: str, mode: int, per_character: float) -> int:
    """The most characters one segment of ``mode`` holds in ``version`` at ``level``."""
    count_bits = COUNT_BITS[mode][0 if version < 10 else 1 if version < 27 else 2]
    return int((8 * capacity_codewords(version, level) - 4 - count_bits) // per_character)


def test_every_level_fills_its_version():
    # Data and error correction codewords of every level add up to the version's codewords (a row
    # copied wrong from the standard's table 9 breaks this: version 15-H lacked its second group).
    for version in range(1, 41):
        rows = [blocks[version - 1] for blocks in BLOCKS.values()]
        totals = {sum(n * (size + ecc) for n, size in groups) for ecc, groups in rows}
        assert len(totals) == 1, version


@pytest.mark.parametrize("level", EC_LEVELS)
def test_every_version_the_same_symbol_as_zxing(level: str):
    # The longest token and the longest lower-case text each version holds: the version boundaries.
    rnd = random.Random(level)
    for version in range(1, 41):
        tokens = _longest(version, level, ALPHANUMERIC, 5.5)
        token = "".join(rnd.choice(CODE_ALPHABET) for _ in range(tokens))
        text = "".join(
            rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(_longest(version, level, BYTE, 8))
        )
        for content in (token, text):
            ours = qr_matrix(content, level)
            assert _version(ours) == version, (level, len(content))
            assert (ours == _zxing(content, level)).all(), (level, version)
            if version < 40:
                assert _version(qr_matrix(content + "a", level)) > version
            else:
                with pytest.raises(ValueError):  # noqa: PT011
                    qr_matrix(content + "a", level)


@pytest.mark.parametrize("mask", MASKS)
def test_every_mask_the_same_symbol_as_zxing(mask: int):
    for content in (URL_CODE.format("7KQ3MZ8PTXV4H9"), "HC1:" + ALPHANUMERIC_SET * 9, "0123456789" * 7):
        for level in EC_LEVELS:
            assert (qr_matrix(content, level, mask) == _zxing(content, level, mask)).all()


@settings(max_examples=150, deadline=None)
@given(
    code=st.text(alphabet=CODE_ALPHABET, min_size=1, max_size=40),
    prefix=st.sampled_from(["", "https://rdv.example.lu/c/", "HC1:", "https://test.example.lu/v?t="]),
    level=st.sampled_from(EC_LEVELS),
)
def test_the_letters_contents_the_same_version_as_zxing(code: str, prefix: str, level: str):
    # What letters carry (a URL with a code, a token, an HC1: string): same version, so the printed
    # modules keep their size; mostly module for module.
    ours = qr_matrix(prefix + code, level)
    assert ours.shape == _zxing(prefix + code, level).shape
    found = _read(ours)
    assert found.text == prefix + code
    assert found.extra["ECLevel"] == level


@settings(max_examples=200, deadline=None)
@given(
    text=st.one_of(
        st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=1200),
        st.text(alphabet="0123456789", min_size=1, max_size=1500),
        st.text(alphabet=ALPHANUMERIC_SET + "abc", min_size=1, max_size=900),
        st.text(min_size=1, max_size=300),
    ),
    level=st.sampled_from(EC_LEVELS),
    mask=st.sampled_from([*MASKS, None]),
)
def test_any_text_reads_back(text: str, level: str, mask: int | None):
    try:
        ours = qr_matrix(text, level, mask)
    except ValueError:  # too long for version 40 at this level: zxing-cpp refuses it too
        with pytest.raises((ValueError, RuntimeError)):
            _zxing(text, level)
        return
    found = _read(ours)
    assert found.text == text
    assert found.extra["ECLevel"] == level
    if text.isascii():  # no fewer bits than zxing-cpp's segments: never a larger version
        assert ours.shape[0] <= _zxing(text, level).shape[0]


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(alphabet="abcXYZ0123456789-/:*# é", min_size=1, max_size=400),
    level=st.sampled_from(EC_LEVELS),
    mask=st.sampled_from([*MASKS, None]),
)
def test_the_image_is_the_packed_matrix(text: str, level: str, mask: int | None):
    # From the per-codeword tables (small symbols) or from the matrix (larger ones, the chosen mask).
    modules, image = qr_image(text, level, mask)
    symbol = qr_matrix(text, level, mask)
    assert modules == len(symbol)
    assert image == np.packbits(~symbol, axis=1).tobytes()


def test_auto_mask_takes_the_least_penalty():
    content = URL_CODE.format("7KQ3MZ8PTXV4H9")
    chosen = qr_matrix(content, "M", None)
    scores = [penalty(qr_matrix(content, "M", mask)) for mask in MASKS]
    assert penalty(chosen) == min(scores)
    assert _read(chosen).text == content


def test_penalty_by_the_four_rules():
    light = np.zeros((21, 21), dtype=bool)
    # 42 runs of 21 (3 + 16 each), 400 blocks of 2 x 2 (3 each), no dark module (10 per 5 % from half).
    assert penalty(light) == 42 * 19 + 400 * 3 + 100
    checkerboard = np.indices((21, 21)).sum(axis=0) % 2 == 1
    assert penalty(checkerboard) == 0  # no run, no block, no finder-like pattern, half dark
    finder_row = checkerboard.copy()
    finder_row[10] = False
    finder_row[10, 7:14] = [True, False, True, True, True, False, True]
    # The row now has light runs of 7 either side (5 points each) and a 1:1:3:1:1 pattern with four
    # light modules on both sides (40 each); no 2 x 2 block, still about half dark.
    assert penalty(finder_row) == 2 * 5 + 2 * 40


def test_penalties_of_a_stack_as_one_by_one():
    # mask = "auto" scores its eight symbols in one pass (penalties): the same points as penalty's.
    rng = np.random.default_rng(3)
    stacks = [rng.random((8, side, side)) < rng.random() for side in (21, 25, 29, 45, 57)]
    light = np.zeros((4, 21, 21), dtype=bool)
    light[1, ::2, ::2] = True
    light[2, :, 3:9] = True
    light[3, 10, 2:9] = [True, False, True, True, True, False, True]
    for stack in [*stacks, light]:
        assert penalties(stack).tolist() == [penalty(symbol) for symbol in stack]
    for content in ("HTTPS://RDV.EXAMPLE.LU/C/7KQ3MZ8PTXV4H9", "a" * 40, "0" * 30):
        first_least = min((qr_matrix(content, "M", mask) for mask in MASKS), key=penalty)
        assert (qr_matrix(content, "M", None) == first_least).all()


@settings(max_examples=300, deadline=None)
@given(
    runs=st.lists(
        st.one_of(
            st.text(alphabet="0123456789", min_size=1, max_size=20),
            st.text(alphabet=ALPHANUMERIC_SET, min_size=1, max_size=40),
        ),
        min_size=1,
        max_size=12,
    ),
    level=st.sampled_from(EC_LEVELS),
)
def test_short_digit_runs_classed_alphanumeric_keep_the_segments(runs: list[str], level: str):
    # Alphanumeric text (an HC1: string) with digits in it: runs too short to gain from numeric mode
    # are classed as alphanumeric, so that such contents share a plan; the segments stay the
    # cheapest ones, those of every digit classed as a digit.
    data = "".join(runs).encode("ascii")
    every_digit = bytes(b"N"[0] if byte in b"0123456789" else b"A"[0] for byte in data)
    try:
        expected = plan(every_digit, 0, level)
    except ValueError:
        return
    assert plan(class_string(data), 0, level) == expected


def test_alphanumeric_asks_for_one_alphanumeric_segment():
    # An EU DCC's HC1: string in alphanumeric mode, as the certificates' specification asks, even
    # where a numeric segment would be shorter (a long run of digits inside).
    content = "HC1:NCF" + "0123456789" * 4 + "6BF%N3LM*6*8ODB3" * 5
    symbol = qr_matrix(content, "Q", 2, alphanumeric=True)
    assert _read(symbol).text == content
    version = _version(symbol)
    # The smallest version one alphanumeric segment of this length fits.
    assert _longest(version - 1, "Q", ALPHANUMERIC, 5.5) < len(content)
    assert len(content) <= _longest(version, "Q", ALPHANUMERIC, 5.5)
    assert _version(qr_matrix(content, "Q", 2)) < version  # the cheapest segments: a numeric one
    with pytest.raises(ValueError, match="alphanumeric"):
        qr_matrix("HC1:abc", "Q", 2, alphanumeric=True)


@pytest.mark.parametrize(
    ("text", "level"), [("A" * 2421, "Q"), ("a" * 2954, "L"), ("1" * 7090, "L"), ("x", "X")]
)
def test_what_it_cannot_encode_is_refused(text: str, level: str):
    with pytest.raises(ValueError):  # noqa: PT011
        qr_matrix(text, level)
