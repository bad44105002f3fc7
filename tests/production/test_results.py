"""Inserter results, reconciliation, returned mail and the reports, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from courrier.db.schema import persons, pieces
from courrier.errors import ConflictError
from courrier.ledger.pieces import piece_states
from courrier.production.jobs import mark_job
from courrier.production.piece_ids import format_piece_id
from courrier.production.reconcile import reconcile
from courrier.production.reports import campaign_status, posting_statement
from courrier.production.results import apply_results
from courrier.production.returns import scan_returns

from .conftest import AT, add_campaign_with_pieces, add_job


def results_file(tmp_path: Path, rows: list[tuple[int, str]], name: str = "J000001.results.csv") -> Path:
    path = tmp_path / name
    lines = ["piece_id,status,time,machine"] + [
        f"{piece},{status},2026-03-12T08:00:00Z,INS-1" for piece, status in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def printed_job(engine, name: str, piece_ids: list[int]) -> int:
    job_id = add_job(engine, name, piece_ids)
    with engine.begin() as connection:
        mark_job(connection, name, "printed", actor="op", at=AT)
    return job_id


@pytest.fixture
def job(engine) -> tuple[int, list[int]]:
    piece_ids = add_campaign_with_pieces(engine, 10)
    return printed_job(engine, "J000001", piece_ids[:8]), piece_ids


def test_results_update_pieces_and_report_what_is_wrong(engine, job, tmp_path):
    _, ids = job
    rows = [
        (ids[0], "inserted"),
        (ids[1], "inserted"),
        (ids[2], "damaged"),
        (ids[3], "missing"),
        (ids[4], "diverted"),
        (ids[0], "inserted"),
        (999_999, "inserted"),
        (ids[9], "inserted"),
    ]
    summary = apply_results(engine, results_file(tmp_path, rows), actor="op", at=AT)
    assert dict(summary.applied) == {"inserted": 2, "damaged": 1, "missing": 1, "diverted": 1}
    assert [(piece, why) for _, piece, why in summary.refused] == [
        (ids[0], "duplicate"),
        (999_999, "unknown_piece"),
        (ids[9], "unknown_piece"),
    ]
    with engine.connect() as connection:
        states = piece_states(connection, ids[:8])
    assert [states[i] for i in ids[:8]] == [
        "inserted",
        "inserted",
        "damaged",
        "missing",
        "diverted",
        "printed",
        "printed",
        "printed",
    ]


def test_reading_the_same_results_twice_changes_nothing(engine, job, tmp_path):
    _, ids = job
    path = results_file(tmp_path, [(ids[0], "inserted"), (ids[1], "damaged")])
    apply_results(engine, path, actor="op", at=AT)
    again = apply_results(engine, path, actor="op", at=AT)
    assert again.already_read
    assert sum(again.applied.values()) == 0
    assert again.refused == []


def test_a_piece_of_another_job_is_reported_not_applied(engine, job, tmp_path):
    _, ids = job
    printed_job(engine, "J000002", ids[8:])
    rows = [(ids[0], "inserted"), (ids[1], "inserted"), (ids[8], "inserted")]
    summary = apply_results(engine, results_file(tmp_path, rows), actor="op", at=AT)
    assert summary.job == "J000001"
    assert [(piece, why) for _, piece, why in summary.refused] == [(ids[8], "other_job")]
    with engine.connect() as connection:
        assert piece_states(connection, [ids[8]]) == {ids[8]: "printed"}


def test_reconcile_counts_per_job(engine, job, tmp_path):
    _, ids = job
    rows = [
        (ids[0], "inserted"),
        (ids[1], "inserted"),
        (ids[2], "damaged"),
        (ids[3], "missing"),
        (ids[4], "diverted"),
    ]
    apply_results(engine, results_file(tmp_path, rows), actor="op", at=AT)
    with engine.connect() as connection:
        campaign_id = connection.execute(select(pieces.c.campaign_id)).scalars().first()
        report = reconcile(connection, campaign_id)
    assert report.total == {
        "expected": 8,
        "inserted": 2,
        "diverted": 1,
        "damaged": 1,
        "missing": 1,
        "unreported": 3,
    }
    assert report.jobs[0]["job"] == "J000001"


def test_marking_follows_the_job_state(engine, tmp_path):
    ids = add_campaign_with_pieces(engine, 10)
    add_job(engine, "J000001", ids[:8])
    with engine.begin() as connection:
        with pytest.raises(ConflictError) as caught:
            mark_job(connection, "J000001", "posted", actor="op", at=AT)
        assert caught.value.code == "job_state"
        assert mark_job(connection, "J000001", "printed", actor="op", at=AT).pieces == 8
    apply_results(engine, results_file(tmp_path, [(i, "inserted") for i in ids[:8]]), actor="op", at=AT)
    with engine.begin() as connection:
        assert mark_job(connection, "J000001", "posted", actor="op", at=AT).pieces == 8
        assert set(piece_states(connection, ids[:8]).values()) == {"posted"}


def test_returned_mail_marks_the_address_unknown(engine, job, tmp_path):
    _, ids = job
    apply_results(engine, results_file(tmp_path, [(i, "inserted") for i in ids[:8]]), actor="op", at=AT)
    with engine.begin() as connection:
        mark_job(connection, "J000001", "posted", actor="op", at=AT)
    scans = tmp_path / "returns.txt"
    first, other = format_piece_id(ids[0]), format_piece_id(ids[9])
    wrong = first[:-1] + str((int(first[-1]) + 1) % 10)
    cut = first[:-2]  # a scan that lost its end: another piece's id without a check digit
    scans.write_text(
        f"piece_id\n{first}\n{first}\n{other}\nabc\n{wrong}\n{cut}\n{ids[0]}\n", encoding="utf-8"
    )
    summary = scan_returns(engine, scans, actor="op", at=AT)
    assert summary.returned == 1
    assert [why for _, _, why in summary.refused] == [
        "scanned twice",
        "piece is planned, not posted",
        "not a piece id",
        "wrong check digit",
        "not a piece id",
        "not a piece id",
    ]
    with engine.connect() as connection:
        person_id = connection.execute(select(pieces.c.person_id).where(pieces.c.id == ids[0])).scalar_one()
        flag = connection.execute(
            select(persons.c.address_unknown).where(persons.c.id == person_id)
        ).scalar_one()
        assert flag is True
        assert piece_states(connection, [ids[0]]) == {ids[0]: "returned"}


def test_posting_statement_and_status(engine, tmp_path):
    ids = add_campaign_with_pieces(engine, 6, countries=("LU", "LU", "FR"))
    printed_job(engine, "J000001", ids)
    apply_results(engine, results_file(tmp_path, [(i, "inserted") for i in ids[:5]]), actor="op", at=AT)
    with engine.connect() as connection:
        campaign_id = connection.execute(select(pieces.c.campaign_id)).scalars().first()
        statement = posting_statement(connection, campaign_id, 1)
        status = campaign_status(connection, campaign_id)
    assert statement.total == {"pieces": 5, "destination": {"domestic": 4, "FR": 1}, "sheets": {"1": 5}}
    assert status.pieces == {"1": {"inserted": 5, "printed": 1}}
    assert status.jobs_awaiting["reconciliation"] == ["J000001"]
