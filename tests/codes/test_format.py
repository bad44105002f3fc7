from __future__ import annotations

import random

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from courrier.cli import courrier
from courrier.codes.format import (
    ALPHABET,
    BODY_LENGTH,
    CODE_LENGTH,
    check_character,
    format_code,
    parse_code,
    random_codes,
)
from courrier.errors import CodeError

bodies = st.text(alphabet=ALPHABET, min_size=BODY_LENGTH, max_size=BODY_LENGTH)


def _code(body: str) -> str:
    return body + check_character(body)


def test_alphabet_has_no_look_alikes_and_a_prime_size():
    assert not set("01OIL") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert all(len(ALPHABET) % d for d in range(2, len(ALPHABET)))


def test_codes_carry_at_least_60_random_bits():
    assert len(ALPHABET) ** BODY_LENGTH >= 2**60


@given(bodies)
def test_a_valid_code_parses_back_in_any_typing(body: str):
    code = _code(body)
    printed = format_code(code)
    assert printed.count("-") == 3
    assert parse_code(printed) == code
    assert parse_code(printed.lower()) == code
    assert parse_code(printed.replace("-", " ")) == code
    assert parse_code(code) == code


@given(bodies, st.integers(0, CODE_LENGTH - 1), st.sampled_from(ALPHABET))
def test_every_single_substitution_is_detected(body: str, position: int, replacement: str):
    code = _code(body)
    if code[position] == replacement:
        return
    typo = code[:position] + replacement + code[position + 1 :]
    with pytest.raises(CodeError) as caught:
        parse_code(typo)
    assert caught.value.code == "bad_check_character"


@given(bodies, st.integers(0, CODE_LENGTH - 2))
def test_every_adjacent_transposition_is_detected(body: str, position: int):
    code = _code(body)
    if code[position] == code[position + 1]:
        return
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    with pytest.raises(CodeError) as caught:
        parse_code(swapped)
    assert caught.value.code == "bad_check_character"


def test_errors_say_where_the_code_is_wrong():
    code = _code("ABCDEFGHJKMNP")
    with pytest.raises(CodeError) as too_short:
        parse_code(code[:-1])
    assert too_short.value.code == "wrong_length"
    with pytest.raises(CodeError) as look_alike:
        parse_code(code[:4] + "O" + code[5:])
    assert look_alike.value.code == "bad_character"
    assert "character 5" in str(look_alike.value)


def test_random_codes_are_valid_and_use_the_whole_alphabet():
    codes = random_codes(2000, random.Random(7).randbytes)
    assert all(parse_code(code) == code for code in codes)
    assert len(set(codes)) == len(codes)
    assert set("".join(code[:BODY_LENGTH] for code in codes)) == set(ALPHABET)


def test_random_codes_redraw_out_of_range_draws():
    # A source that first gives the largest 72-bit number (out of range, drawn again), then zeros.
    draws = iter([b"\xff" * 9, bytes(9)])
    codes = random_codes(1, lambda n: next(draws))
    assert codes == [_code("2" * BODY_LENGTH)]


def test_codes_check_command():
    runner = CliRunner()
    good = runner.invoke(courrier, ["codes", "check", format_code(_code("ABCDEFGHJKMNP")).lower()])
    assert good.exit_code == 0, good.output
    assert "well-formed" in good.output
    bad = runner.invoke(courrier, ["codes", "check", "ABCD-EFGH-JKMN-P"])
    assert bad.exit_code == 1
    assert "wrong_length" in bad.output


def test_the_module_docstring_example_is_a_valid_code():
    # The example a reader copies from the docs must be a code the parser accepts.
    import courrier.codes.format as module

    example = "ABCD-EFGH-JKMN-PP"
    assert example in (module.__doc__ or "")
    assert parse_code(example) == "ABCDEFGHJKMNPP"
