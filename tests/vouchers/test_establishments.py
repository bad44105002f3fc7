"""Establishments: the file's rows imported or rejected with the field and why (fuzzed: nothing lost),
the CLI, registering, approving."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from courrier.cli import courrier
from courrier.db.schema import establishments
from courrier.db.transaction import write_transaction
from courrier.errors import ConflictError, InputFileError
from courrier.vouchers.establishments import (
    COLUMNS,
    approve_establishment,
    check_establishment,
    get_establishment,
    import_establishments,
    read_establishments_file,
    register_establishment,
    set_language,
)

from .conftest import ESTABLISHMENTS

NOW = dt.datetime(2021, 1, 10, 8, tzinfo=dt.UTC)
GOOD = ESTABLISHMENTS[0]


def _write(path: Path, rows: list[dict[str, str]], columns=COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_a_good_row_is_normalised():
    found, problems = check_establishment(
        {**GOOD, "kind": "Youth hostel", "iban": "lu28 0019 4006 4475 0000"}
    )
    assert problems == []
    assert found["kind"] == "youth_hostel"
    assert found["iban"] == "LU280019400644750000"
    assert (found["commune"], found["region"]) == ("Luxembourg", "Luxembourg")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("kind", "castle", "bad_establishment_kind"),
        ("iban", "LU28 0019 4006 4475 0001", "bad_iban"),
        ("iban", "not an iban", "bad_iban"),
        ("postcode", "75001", "bad_postcode"),
        ("postcode", "L-0001", "bad_postcode"),
        ("contact", "nobody", "bad_contact"),
        ("name", "", "missing_field"),
        ("name", "x" * 201, "field_too_long"),
        ("address", "Rue\x00 1", "bad_text"),
        ("id", "no spaces allowed", "bad_establishment_id"),
        ("licence_number", "A B", "bad_licence_number"),
        ("language", "es", "bad_establishment_language"),
        ("language", "fr\x00", "bad_establishment_language"),
    ],
)
def test_each_problem_names_its_field_and_code(field, value, code):
    _found, problems = check_establishment({**GOOD, field: value})
    assert [(p.facts["field"], p.code) for p in problems] == [(field, code)]


def test_import_keeps_the_good_rows_and_rejects_each_bad_one_with_its_line(engine, tmp_path):
    rows = [
        GOOD,
        {**GOOD, "id": "H-2", "licence_number": "L-2", "iban": "LU00 0000"},
        {**GOOD, "id": "H-3", "licence_number": "L-3", "kind": "castle", "postcode": "1"},
        {**GOOD, "licence_number": "L-4"},  # the id again
        {**GOOD, "id": "H-5"},  # the licence again
        {**ESTABLISHMENTS[1]},
    ]
    path = _write(tmp_path / "establishments.csv", rows)
    with write_transaction(engine) as connection:
        report = import_establishments(connection, read_establishments_file(path), actor="t", now=NOW)
    assert (report.added, report.updated, report.rejected) == (2, 0, 4)
    assert [(r.line, r.field, r.code) for r in report.rejects] == [
        (3, "iban", "bad_iban"),
        (4, "kind", "bad_establishment_kind"),
        (4, "postcode", "bad_postcode"),
        (5, "id", "duplicate_establishment"),
        (6, "licence_number", "licence_taken"),
    ]
    # Imported again with a change: updated, not added; the status stays.
    path = _write(tmp_path / "again.csv", [{**GOOD, "name": "Hôtel du Parc (rénové)"}])
    with write_transaction(engine) as connection:
        again = import_establishments(connection, read_establishments_file(path), actor="t", now=NOW)
        assert (again.added, again.updated) == (0, 1)
        assert get_establishment(connection, GOOD["id"]).name == "Hôtel du Parc (rénové)"


def test_a_file_without_a_column_is_refused_whole(tmp_path):
    path = _write(tmp_path / "short.csv", [GOOD], columns=[c for c in COLUMNS if c != "iban"])
    with pytest.raises(InputFileError) as refused:
        list(read_establishments_file(path))
    assert refused.value.code == "missing_columns"


_cell = st.one_of(
    st.text(max_size=40), st.sampled_from(["", "hotel", "L-1750", GOOD["iban"], "a@b.lu", "\ufeff"])
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_cell, min_size=0, max_size=10), max_size=8), tail=st.binary(max_size=30))
def test_fuzzed_files_lose_no_row(tmp_path_factory, rows, tail):
    """Whatever the rows hold (short, long, not UTF-8), each line is imported or rejected, never both,
    and nothing raises but a refusal of the whole file."""
    from sqlalchemy import create_engine

    from courrier.db.schema import events, metadata

    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "fuzz.csv"
    with path.open("w", encoding="utf-8", errors="surrogatepass", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    with path.open("ab") as file:
        file.write(tail)
    engine = create_engine(f"sqlite:///{folder / 'db.sqlite'}")
    metadata.create_all(engine, tables=[establishments, events])
    try:
        read = list(read_establishments_file(path))
    except InputFileError:  # what csv cannot read at all
        return
    with engine.begin() as connection:
        report = import_establishments(connection, iter(read), actor="t", now=NOW)
        stored = connection.execute(select(func.count()).select_from(establishments)).scalar_one()
    rejected_lines = {r.line for r in report.rejects}
    assert report.added + report.updated + len(rejected_lines) == len(read)
    assert stored == report.added
    engine.dispose()


def test_registering_is_pending_until_an_operator_approves(engine):
    values = {name: value for name, value in GOOD.items() if name != "id"}
    with write_transaction(engine) as connection:
        found = register_establishment(connection, values, now=NOW)
    assert found.status == "pending"
    assert found.id.startswith("R-")
    with write_transaction(engine) as connection:
        with pytest.raises(ConflictError) as taken:
            register_establishment(connection, values, now=NOW)
        assert taken.value.code == "licence_taken"
    with write_transaction(engine) as connection:
        approved = approve_establishment(connection, found.id, actor="op", now=NOW)
    assert approved.status == "approved"
    assert approved.approved_by == "op"
    with write_transaction(engine) as connection, pytest.raises(ConflictError) as twice:
        approve_establishment(connection, found.id, actor="op", now=NOW)
    assert twice.value.code == "already_approved"


def test_the_cli_imports_lists_and_approves(db_url, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("COURRIER_DATABASE_URL", db_url)
    rows = [GOOD, {**ESTABLISHMENTS[1], "iban": "LU12 3"}]
    path = _write(tmp_path / "establishments.csv", rows)
    runner = CliRunner()
    result = runner.invoke(courrier, ["establishments", "import", str(path), "--pending"])
    assert result.exit_code == 0, result.output
    assert "1 establishments added, 0 updated, 1 rows rejected" in result.output
    with (tmp_path / "establishments.rejects.csv").open(encoding="utf-8") as file:
        assert [(r["line"], r["field"], r["code"]) for r in csv.DictReader(file)] == [
            ("3", "iban", "bad_iban")
        ]
    listed = runner.invoke(courrier, ["establishments", "list", "--json"])
    assert [(e["id"], e["status"]) for e in json.loads(listed.output)] == [(GOOD["id"], "pending")]
    approved = runner.invoke(courrier, ["establishments", "approve", GOOD["id"].lower()])
    assert approved.exit_code == 0, approved.output
    again = runner.invoke(courrier, ["establishments", "approve", GOOD["id"]])
    assert again.exit_code == 1
    assert "already_approved" in again.output
    assert "approved" in runner.invoke(courrier, ["establishments", "list", "--status", "approved"]).output


def test_the_language_of_the_statements_comes_from_the_file_and_the_operator(engine, tmp_path):
    columns = (*COLUMNS, "language")
    rows = [{**GOOD, "language": "DE"}, {**ESTABLISHMENTS[1], "language": ""}]
    path = _write(tmp_path / "with-language.csv", rows, columns=columns)
    with write_transaction(engine) as connection:
        report = import_establishments(connection, read_establishments_file(path), actor="t", now=NOW)
        assert (report.added, report.rejected) == (2, 0)
        assert get_establishment(connection, GOOD["id"]).language == "de"
        assert get_establishment(connection, ESTABLISHMENTS[1]["id"]).language == "fr"  # empty: French
    with write_transaction(engine) as connection:
        changed = set_language(connection, GOOD["id"], "lb", actor="op", now=NOW)
    assert changed.language == "lb"
    # A file without the column, or with the cell empty, keeps what the operator set.
    path = _write(tmp_path / "without.csv", [{**GOOD, "name": "Hôtel du Parc (rénové)"}])
    with write_transaction(engine) as connection:
        import_establishments(connection, read_establishments_file(path), actor="t", now=NOW)
        assert get_establishment(connection, GOOD["id"]).language == "lb"
    path = _write(tmp_path / "bad.csv", [{**GOOD, "language": "es"}], columns=columns)
    with write_transaction(engine) as connection:
        bad = import_establishments(connection, read_establishments_file(path), actor="t", now=NOW)
        assert [(r.field, r.code) for r in bad.rejects] == [("language", "bad_establishment_language")]
        assert get_establishment(connection, GOOD["id"]).language == "lb"
        with pytest.raises(InputFileError) as refused:
            set_language(connection, GOOD["id"], "es", actor="op", now=NOW)
        assert refused.value.code == "bad_establishment_language"


def test_a_registration_keeps_its_language_and_the_cli_sets_it(db_url, engine, monkeypatch):
    values = {name: value for name, value in GOOD.items() if name != "id"}
    with write_transaction(engine) as connection:
        found = register_establishment(connection, {**values, "language": "pt"}, now=NOW)
    assert found.language == "pt"
    monkeypatch.setenv("COURRIER_DATABASE_URL", db_url)
    runner = CliRunner()
    result = runner.invoke(courrier, ["establishments", "set-language", found.id.lower(), "en"])
    assert result.exit_code == 0, result.output
    assert "statements in en" in result.output
    listed = runner.invoke(courrier, ["establishments", "list", "--json"])
    assert [(e["id"], e["language"]) for e in json.loads(listed.output)] == [(found.id, "en")]
    refused = runner.invoke(courrier, ["establishments", "set-language", found.id, "xx"])
    assert refused.exit_code == 1
    assert "bad_establishment_language" in refused.output
