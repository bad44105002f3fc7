"""`courrier inserter results` on hostile or mistaken input: one line and exit 1, or the good records
read and the bad ones reported; never a traceback, never a wrong piece, never a change on refusal."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from courrier.cli import courrier
from courrier.db.schema import events, inserter_results, print_jobs
from courrier.ledger.pieces import piece_states
from courrier.production.results import MAX_FILE_BYTES, read_results_file

from .conftest import add_campaign_with_pieces, add_job
from .mutants import mutations
from .test_results import printed_job

HEADER = "piece_id,status,time,machine\n"


def run(*args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(courrier, list(args))
    exception = result.exception if not isinstance(result.exception, SystemExit) else None
    return result.exit_code, result.output, exception


def _snapshot(engine) -> tuple[int, int, list[str]]:
    with engine.connect() as connection:
        return (
            connection.execute(select(func.count()).select_from(inserter_results)).scalar_one(),
            connection.execute(select(func.count()).select_from(events)).scalar_one(),
            list(connection.execute(select(print_jobs.c.state).order_by(print_jobs.c.id)).scalars()),
        )


@pytest.fixture
def printed(engine, cli_env) -> list[int]:
    ids = add_campaign_with_pieces(engine, 10)
    printed_job(engine, "J000001", ids[:8])
    return ids


BAD_LINES = {
    "short line": "{id}\n",
    "NUL line": "\0\n",
    "superscript two": "²,inserted,t,m\n",
    "twenty digits": "12345678901234567890,inserted,t,m\n",
    "huge field": "{id},inserted,t," + "M" * 200_000 + "\n",
    "oops": "oops\n",
    "arabic-indic digits": "\u0665\u0660\u0661,inserted,t,m\n",
    "full-width digits": "\uff11,inserted,t,m\n",
    "too many fields": "{id},inserted,t,m,extra\n",
    "stray quote": '{id},"inserted,t,m\n',
}


@pytest.mark.parametrize("case", BAD_LINES)
def test_a_bad_record_is_reported_never_a_traceback(engine, printed, tmp_path: Path, case: str):
    path = tmp_path / "r.csv"
    good = f"{printed[0]},inserted,2026-03-12T08:00:00Z,INS-1\n"
    path.write_text(HEADER + good + BAD_LINES[case].format(id=printed[1]), encoding="utf-8")
    code, output, exception = run("inserter", "results", str(path))
    assert exception is None, output
    assert code in (0, 1)
    with engine.connect() as connection:
        states = piece_states(connection, printed[:8])
    # The good record is read; the bad one moves no piece (not the one its digits look like either).
    if code == 0:
        assert states[printed[0]] == "inserted"
    assert [state for piece, state in states.items() if piece != printed[0]] == ["printed"] * 7


def test_unicode_digits_are_no_piece_ids(tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "\u0665,inserted,t,m\n\uff15,inserted,t,m\n5,inserted,t,m\n", encoding="utf-8")
    results, problems = read_results_file(path)
    assert [result.piece_id for result in results] == [5]
    assert [line for line, _ in problems] == [2, 3]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "binary_file"),
        (HEADER.encode() + b"1,inserted,\xe9t\xe9,m\n", "not_utf8"),
        (b"", "empty_file"),
        (b"id,what\n1,2\n", "missing_columns"),
    ],
)
def test_a_file_that_is_no_results_file_is_refused_whole(engine, printed, tmp_path: Path, content, code):
    path = tmp_path / "r.csv"
    path.write_bytes(content)
    before = _snapshot(engine)
    exit_code, output, exception = run("inserter", "results", str(path))
    assert exception is None
    assert exit_code == 1
    assert f"[{code}]" in output
    assert _snapshot(engine) == before


def test_a_file_too_large_is_refused_before_it_is_read(engine, printed, tmp_path: Path):
    path = tmp_path / "r.csv"
    line = f"{printed[0]},inserted,2026-03-12T08:00:00Z,INS-1\n".encode()
    with path.open("wb") as file:
        file.write(HEADER.encode())
        file.write(line * (MAX_FILE_BYTES // len(line) + 1))
    code, output, _ = run("inserter", "results", str(path))
    assert code == 1
    assert "[file_too_large]" in output


def test_a_job_never_marked_printed_is_refused(engine, cli_env, tmp_path: Path):
    ids = add_campaign_with_pieces(engine, 4)
    add_job(engine, "J000001", ids)
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "".join(f"{i},inserted,t,m\n" for i in ids), encoding="utf-8")
    before = _snapshot(engine)
    for extra in ((), ("--job", "J000001")):
        code, output, _ = run("inserter", "results", str(path), *extra)
        assert code == 1
        assert "[job_not_printed]" in output
    assert _snapshot(engine) == before
    assert before[2] == ["composed"]


def test_a_file_of_another_job_is_refused_with_job(engine, printed, tmp_path: Path):
    printed_job(engine, "J000002", printed[8:])
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "".join(f"{i},inserted,t,m\n" for i in printed[8:]), encoding="utf-8")
    before = _snapshot(engine)
    code, output, _ = run("inserter", "results", str(path), "--job", "J000001")
    assert code == 1
    assert "[wrong_job]" in output
    assert "J000002" in output
    assert _snapshot(engine) == before


def test_reading_a_file_again_says_already_read_once(engine, printed, tmp_path: Path):
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "".join(f"{i},inserted,t,m\n" for i in printed[:8]), encoding="utf-8")
    assert run("inserter", "results", str(path))[0] == 0
    before = _snapshot(engine)
    code, output, _ = run("inserter", "results", str(path))
    assert code == 0
    assert output.splitlines() == [f"{path}: already read (8 records of job J000001); nothing changed"]
    assert _snapshot(engine) == before


def test_mutated_results_files_never_traceback_and_refusals_change_nothing(engine, printed, tmp_path: Path):
    valid = (
        HEADER
        + "".join(
            f"{i},{('inserted', 'damaged')[i % 2]},2026-03-12T08:00:0{i % 10}Z,INS-1\n" for i in printed[:8]
        )
    ).encode()
    path = tmp_path / "r.csv"
    for number, mutant in enumerate(mutations(valid, seed=18, count=200)):
        path.write_bytes(mutant)
        before = _snapshot(engine)
        code, output, exception = run("inserter", "results", str(path))
        assert exception is None, (number, mutant, output)
        assert code in (0, 1), (number, mutant, output)
        assert "Traceback" not in output
        if code == 1:
            assert _snapshot(engine) == before, (number, mutant, output)
