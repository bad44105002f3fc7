from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from courrier.errors import InputFileError
from courrier.production.inserter import (
    Envelope,
    break_flags,
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
    envelopes = [Envelope(10, 1, 2, bundle_break=True, tray_break=True), Envelope(11, 2, 1, divert=True)]
    write_control_file(tmp_path / "J1.inserter.csv", envelopes, job="J1")
    assert read_control_file(tmp_path / "J1.inserter.csv") == envelopes
    lines = (tmp_path / "J1.inserter.csv").read_text().splitlines()
    assert lines[0] == "H,J1,2,3"
    assert lines[1] == "piece_id,sequence,sheets,inserts,divert,bundle_break,tray_break"
    assert lines[-1].startswith("T,J1,2,3,")


@given(st.lists(st.tuples(st.integers(1, 9), st.booleans()), min_size=1, max_size=40), st.data())
def test_the_trailer_counts_the_records_and_catches_a_changed_byte(tmp_path_factory, pieces, data):
    path = tmp_path_factory.mktemp("control") / "J1.inserter.csv"
    envelopes = [Envelope(100 + n, n + 1, sheets, divert=divert) for n, (sheets, divert) in enumerate(pieces)]
    write_control_file(path, envelopes, job="J1")
    trailer = path.read_text().splitlines()[-1].split(",")
    assert trailer[2:4] == [str(len(envelopes)), str(sum(e.sheets for e in envelopes))]
    raw = bytearray(path.read_bytes())
    # Change one digit of one record (not the header or trailer): the file must be refused.
    body_start = raw.index(b"\n", raw.index(b"\n") + 1) + 1
    body_end = raw.rindex(b"T,")
    digits = [i for i in range(body_start, body_end) if chr(raw[i]).isdigit()]
    where = data.draw(st.sampled_from(digits))
    raw[where] = ord("0") + (raw[where] - ord("0") + 1) % 10
    path.write_bytes(bytes(raw))
    with pytest.raises(InputFileError) as caught:
        read_control_file(path)
    assert caught.value.code == "control_file_damaged"


def test_a_control_file_cut_short_is_refused(tmp_path: Path):
    path = tmp_path / "J1.inserter.csv"
    write_control_file(path, [Envelope(n, n, 1) for n in range(1, 50)], job="J1")
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:20] + lines[-1:]))
    with pytest.raises(InputFileError) as caught:
        read_control_file(path)
    assert caught.value.code == "control_file_damaged"


def test_bundle_and_tray_breaks():
    bundles = ["L-1111"] * 3 + ["L-2222"] * 4 + ["BE"] * 2 + ["FR"] * 6
    flags = break_flags(bundles, tray_pieces=5)
    assert [b for b, _ in flags] == [True, 0, 0, True, 0, 0, 0, True, 0, True, 0, 0, 0, 0, 0]
    # Trays of 5: L-2222 (4) does not fit after L-1111 (3) and starts a tray; BE (2) does not fit after
    # it either. FR (6) fits no tray whole: it fills BE's tray and goes on in the next.
    assert [t for _, t in flags] == [True, 0, 0, True, 0, 0, 0, True, 0, 0, 0, 0, True, 0, 0]


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
