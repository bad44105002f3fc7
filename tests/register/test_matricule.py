from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from courrier.register.matricule import (
    luhn_digit,
    make_matricule,
    matricule_birth_date,
    matricule_problem,
    verhoeff_digit,
)

birth_dates = st.dates(min_value=dt.date(1890, 1, 1), max_value=dt.date(2030, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


def test_check_digits_match_published_examples():
    # Textbook examples of both algorithms.
    assert luhn_digit("7992739871") == 3
    assert verhoeff_digit("236") == 3
    assert verhoeff_digit("12345") == 1


def test_a_made_matricule_encodes_its_birth_date():
    matricule = make_matricule(dt.date(1983, 7, 14), 42)
    assert matricule.startswith("19830714042")
    assert matricule_problem(matricule) is None
    assert matricule_birth_date(matricule) == dt.date(1983, 7, 14)


@given(birth_dates, sequences, st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=9))
def test_every_single_digit_error_is_caught(birth_date, sequence, position, shift):
    matricule = make_matricule(birth_date, sequence)
    digit = (int(matricule[position]) + shift) % 10
    typo = matricule[:position] + str(digit) + matricule[position + 1 :]
    assert matricule_problem(typo) is not None


@given(birth_dates, sequences, st.integers(min_value=0, max_value=11))
def test_every_adjacent_transposition_is_caught(birth_date, sequence, position):
    matricule = make_matricule(birth_date, sequence)
    a, b = matricule[position], matricule[position + 1]
    swapped = matricule[:position] + b + a + matricule[position + 2 :]
    if a != b:
        assert matricule_problem(swapped) is not None


def test_problems_say_what_is_wrong():
    assert matricule_problem("1983071404") == "must be 13 digits"
    assert "not a date" in str(matricule_problem("1983023004200"))
    good = make_matricule(dt.date(1983, 7, 14), 42)
    assert "Luhn" in str(matricule_problem(good[:11] + str((int(good[11]) + 1) % 10) + good[12]))
    assert "Verhoeff" in str(matricule_problem(good[:12] + str((int(good[12]) + 1) % 10)))
