from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from courrier.errors import InputFileError
from courrier.production.inserter import (
    Envelope,
    parse_sheet_mark,
    read_control_file,
    sheet_mark,
    simulate_results,
    write_control_file,
    write_results_file,
)
from courrier.production.results import read_results_file


@given(st.from_regex(r"J[0-9]{6}(\.R[0-9])?", fullmatch=True), st.integers(1, 999_999), st.integers(1, 20))
def test_sheet_marks_round_trip(job_id, sequence, sheets):
    for sheet in range(1, sheets + 1):
        assert parse_sheet_mark(sheet_mark(job_id, sequence, sheet, sheets)) == (
            job_id,
            sequence,
            sheet,
            sheets,
            sheet == sheets,
        )


def test_control_file_round_trip(tmp_path: Path):
    envelopes = [Envelope(10, 1, 2), Envelope(11, 2, 1, divert=True)]
    write_control_file(tmp_path / "J1.inserter.csv", envelopes)
    assert read_control_file(tmp_path / "J1.inserter.csv") == envelopes
    assert (tmp_path / "J1.inserter.csv").read_text().splitlines()[
        0
    ] == "piece_id,sequence,sheets,inserts,divert"


def test_simulation_is_seeded_and_honours_divert_flags(tmp_path: Path):
    envelopes = [Envelope(n, n, 1, divert=(n == 5)) for n in range(1, 2001)]
    first = list(simulate_results(envelopes, damage=0.01, divert=0.01, miss=0.01, seed=4))
    assert first == list(simulate_results(envelopes, damage=0.01, divert=0.01, miss=0.01, seed=4))
    statuses = [r.status for r in first]
    assert first[4].status == "diverted"
    assert 0 < statuses.count("damaged") < 60
    assert 0 < statuses.count("missing") < 60
    write_results_file(tmp_path / "r.csv", first)
    results, problems = read_results_file(tmp_path / "r.csv")
    assert problems == []
    assert [(r.piece_id, r.status) for r in results] == [(r.piece_id, r.status) for r in first]


def test_unreadable_result_records_are_reported_with_their_line(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_text(
        "piece_id,status,time,machine\n1,inserted,t,m\nx,inserted,t,m\n2,eaten,t,m\n", encoding="utf-8"
    )
    results, problems = read_results_file(path)
    assert [r.piece_id for r in results] == [1]
    assert [line for line, _ in problems] == [3, 4]


def test_a_results_file_without_its_columns_is_refused(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_text("id,what\n1,2\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        read_results_file(path)
    assert caught.value.code == "missing_columns"
