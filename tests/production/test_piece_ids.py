"""Printed piece ids: a check digit that catches what a scanner or a typist gets wrong."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from courrier.cli import courrier
from courrier.errors import InputFileError
from courrier.production.piece_ids import MAX_PIECE_ID, format_piece_id, parse_piece_id

from .conftest import add_campaign_with_pieces

IDS = st.integers(min_value=0, max_value=MAX_PIECE_ID)


@given(IDS)
def test_a_printed_id_reads_back(piece_id: int):
    assert parse_piece_id(format_piece_id(piece_id)) == piece_id


@given(IDS, st.data())
def test_every_wrong_digit_is_caught(piece_id: int, data: st.DataObject):
    printed = format_piece_id(piece_id)
    position = data.draw(st.sampled_from([i for i, char in enumerate(printed) if char != "-"]))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != printed[position]]))
    with pytest.raises(InputFileError):
        parse_piece_id(printed[:position] + digit + printed[position + 1 :])


@given(st.integers(min_value=10, max_value=MAX_PIECE_ID), st.data())
def test_every_swap_of_neighbours_is_caught(piece_id: int, data: st.DataObject):
    digits = str(piece_id)
    position = data.draw(st.integers(min_value=0, max_value=len(digits) - 2))
    if digits[position] == digits[position + 1]:
        return
    swapped = digits[:position] + digits[position + 1] + digits[position] + digits[position + 2 :]
    with pytest.raises(InputFileError):
        parse_piece_id(f"{swapped}-{format_piece_id(piece_id)[-1]}")


@given(IDS, st.integers(min_value=1, max_value=11))
def test_a_scan_cut_short_is_refused(piece_id: int, cut: int):
    printed = format_piece_id(piece_id)
    with pytest.raises(InputFileError):
        parse_piece_id(printed[: max(0, len(printed) - cut)])


@pytest.mark.parametrize(
    "text", ["\u0665\u0660\u0661-0", "\uff11-5", "²-0", "1-٥", "12345678901234567890-0", "1 -5"]
)
def test_only_ascii_digits_are_digits(text: str):
    with pytest.raises(InputFileError):
        parse_piece_id(text)


def test_mutated_scan_files_never_traceback(engine, cli_env, tmp_path: Path):
    ids = add_campaign_with_pieces(engine, 4)
    valid = ("piece_id\n" + "".join(f"{format_piece_id(i)}\n" for i in ids)).encode()
    rnd = random.Random(11)
    path = tmp_path / "scans.txt"
    runner = CliRunner()
    for _ in range(150):
        data = bytearray(valid)
        for _ in range(rnd.randint(1, 3)):
            at = rnd.randrange(len(data) + 1)
            choice = rnd.randrange(3)
            if choice == 0:
                data = data[:at]
            elif choice == 1:
                data[at:at] = bytes([rnd.randrange(256)])
            else:
                del data[at : at + 3]
        path.write_bytes(bytes(data))
        result = runner.invoke(courrier, ["returns", "scan", str(path)])
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
