"""The print production commands as an operator runs them (jobs inserted directly: no composer needed)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import update

from courrier.cli import courrier
from courrier.cli.compose import _Progress
from courrier.db import make_engine
from courrier.db.schema import print_jobs
from courrier.production.inserter import Envelope, write_control_file

from .conftest import add_campaign_with_pieces, add_job


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(courrier, list(args))
    return result.exit_code, result.output


def test_from_printed_job_to_posting_statement(cli_env, tmp_path: Path):
    engine = make_engine(cli_env)
    ids = add_campaign_with_pieces(engine, 40, countries=("LU", "LU", "LU", "BE"))
    add_job(engine, "J000001", ids)
    with engine.begin() as connection:
        connection.execute(update(print_jobs).values(folder=str(tmp_path)))
    write_control_file(tmp_path / "J000001.inserter.csv", [Envelope(p, n, 1) for n, p in enumerate(ids, 1)])
    engine.dispose()

    code, out = run("jobs", "list", "test")
    assert code == 0, out
    assert "J000001" in out
    assert "composed" in out
    assert run("jobs", "mark", "J000001", "printed")[0] == 0

    code, out = run("inserter", "simulate", "J000001", "--damage", "0.1", "--miss", "0.05", "--seed", "3")
    assert code == 0, out
    results = tmp_path / "J000001.results.csv"
    assert results.exists()
    code, out = run("inserter", "results", str(results), "--json")
    assert code == 0, out
    applied = json.loads(out)["applied"]
    assert sum(applied.values()) == 40

    code, out = run("reconcile", "test", "--json")
    total = json.loads(out)["total"]
    assert total["expected"] == 40
    assert total["inserted"] + total["damaged"] + total["missing"] == 40

    code, out = run("posting", "test", "--wave", "1", "--json")
    assert code == 0, out
    statement = json.loads(out)
    assert statement["total"]["pieces"] == total["inserted"]
    assert set(statement["total"]["destination"]) <= {"domestic", "BE"}

    code, out = run("status", "test", "--json")
    assert code == 0
    assert json.loads(out)["jobs_awaiting"]["reconciliation"] == ["J000001"]


def test_marking_a_job_out_of_order_fails_in_one_line(cli_env):
    engine = make_engine(cli_env)
    add_job(engine, "J000001", add_campaign_with_pieces(engine, 3))
    engine.dispose()
    code, out = run("jobs", "mark", "J000001", "posted")
    assert code == 1
    assert "job_state" in out


def test_returns_scan_reports_what_it_cannot_mark(cli_env, tmp_path: Path):
    engine = make_engine(cli_env)
    add_campaign_with_pieces(engine, 2)
    engine.dispose()
    scans = tmp_path / "scans.txt"
    scans.write_text("1-3\n", encoding="utf-8")
    code, out = run("returns", "scan", str(scans))
    assert code == 0
    assert "not posted" in out


def test_unknown_campaign_says_so(cli_env):
    code, out = run("status", "nope")
    assert code == 1
    assert "unknown_campaign" in out


def test_compose_progress_shows_jobs_and_letters_done_of_the_total(capsys):
    progress = _Progress()
    progress.start(3, 12_000)
    progress.job_done("J000001", 5_000)
    progress.job_done("J000002", 5_000)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "composing 3 jobs, 12,000 letters"
    assert "1/3 jobs  5,000/12,000 letters" in lines[1]
    assert lines[2].startswith("  [####################----]  83%  2/3 jobs  10,000/12,000 letters")
    assert lines[2].endswith("left  (J000002)")
