"""Every command that reads a file, fed mutated and truncated versions of a valid one (issue 11): exit 0
or exit 1 with one line naming a catalogued code, never a traceback, and on exit 1 the database
unchanged. (Inserter results are fuzzed in test_results_input.py.)

The mutants are seeded (`mutants.mutations`), so a failing case is named by its number and replays.
The readers do not depend on the database's dialect; these run on SQLite only, to keep CI fast.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from courrier.cli import courrier

from ..compose.conftest import EXAMPLES
from .conftest import add_campaign_with_pieces
from .mutants import assert_exit_or_one_line, database_snapshot, mutations
from .test_results import printed_job

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(courrier, list(args))


def fuzzed(engine, path: Path, valid: bytes, seed: int, count: int, *command: str):  # type: ignore[no-untyped-def]
    """Each seeded mutant of ``valid`` written to ``path`` and given to ``command``: exit 0, or exit 1
    with one line and the database as it was. Yields each result, for what a test does after a success."""
    for number, mutant in enumerate(mutations(valid, seed=seed, count=count)):
        path.write_bytes(mutant)
        before = database_snapshot(engine)
        result = invoke(*command, str(path))
        case = (number, len(mutant), mutant[:200])
        assert_exit_or_one_line(result, case)
        if result.exit_code == 1:
            assert database_snapshot(engine) == before, (*case, result.output)
        yield result


def _register_csv(tmp_path: Path) -> bytes:
    path = tmp_path / "valid.csv"
    result = invoke(
        "register", "generate", "--people", "12", "--cross-border", "2", "--seed", "5", "-o", str(path)
    )
    assert result.exit_code == 0, result.output
    return path.read_bytes()


@SQLITE_ONLY
def test_mutated_register_extracts_never_traceback_and_refusals_change_nothing(engine, cli_env, tmp_path):
    valid = _register_csv(tmp_path)
    # Some people are in the database already, so an update or a refusal has something to change.
    (tmp_path / "first.csv").write_bytes(valid)
    assert invoke("register", "import", str(tmp_path / "first.csv")).exit_code == 0
    path = tmp_path / "extract.csv"
    for _ in fuzzed(engine, path, valid, 11, 250, "register", "import"):
        pass


@SQLITE_ONLY
def test_mutated_parquet_extracts_never_traceback_and_refusals_change_nothing(engine, cli_env, tmp_path):
    table = pacsv.read_csv(
        io.BytesIO(_register_csv(tmp_path)),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in ("national_id", "house_number", "postcode")}
        ),
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    valid = sink.getvalue()
    path = tmp_path / "extract.parquet"
    for _ in fuzzed(engine, path, valid, 12, 100, "register", "import"):
        pass


@pytest.fixture
def template_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "template"
    shutil.copytree(EXAMPLES / "mass-testing", folder)
    return folder


def _records_csv(folder: Path) -> bytes:
    """The template's sample records as the CSV a mail merge is given (dotted columns)."""
    import json

    rows = [json.loads(line) for line in (folder / "sample.jsonl").read_text("utf-8").splitlines() if line]
    flat = []
    for row in rows:
        person = row.pop("person")
        flat.append(
            {**{k: str(v) for k, v in row.items()}, **{f"person.{k}": str(v) for k, v in person.items()}}
        )
    header = list(flat[0])
    lines = [",".join(header)] + [",".join(f'"{record.get(name, "")}"' for name in header) for record in flat]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_mutated_records_files_never_traceback_in_render_or_check(template_copy: Path, tmp_path, kind):
    valid = (template_copy / "sample.jsonl").read_bytes() if kind == "jsonl" else _records_csv(template_copy)
    records = tmp_path / f"records.{kind}"
    output = tmp_path / "out" / "letters.pdf"
    for number, mutant in enumerate(mutations(valid, seed=13, count=100)):
        records.write_bytes(mutant)
        result = invoke(
            "template", "render", str(template_copy), "--records", str(records), "-o", str(output)
        )
        assert_exit_or_one_line(result, (number, mutant))
        if number % 4 == 0:  # check composes every record too; a quarter of the cases keep it fast
            result = invoke("template", "check", str(template_copy), "--records", str(records))
            assert_exit_or_one_line(result, (number, mutant))


@pytest.mark.parametrize("name", ["template.toml", "text.fr.md", "strings.de.toml"])
def test_mutated_template_files_never_traceback_in_render_or_check(template_copy: Path, tmp_path, name):
    target = template_copy / name
    valid = target.read_bytes()
    records = template_copy / "sample.jsonl"
    output = tmp_path / "out" / "letters.pdf"
    for number, mutant in enumerate(mutations(valid, seed=14, count=70)):
        target.write_bytes(mutant)
        result = invoke("template", "check", str(template_copy))
        assert_exit_or_one_line(result, (name, number, mutant))
        result = invoke(
            "template", "render", str(template_copy), "--records", str(records), "-o", str(output)
        )
        assert_exit_or_one_line(result, (name, number, mutant))


@SQLITE_ONLY
def test_mutated_returns_scans_never_traceback_and_refusals_change_nothing(engine, cli_env, tmp_path):
    from courrier.production.piece_ids import format_piece_id

    ids = add_campaign_with_pieces(engine, 10)
    printed_job(engine, "J000001", ids)
    valid = "".join(f"{format_piece_id(piece)}\n" for piece in ids[:6]).encode()
    path = tmp_path / "scan.txt"
    for _ in fuzzed(engine, path, valid, 15, 300, "returns", "scan"):
        pass


CAMPAIGN = """\
name = "fuzzed"
kind = "invitation"
template = "{template}"
languages = ["fr", "de", "en", "pt", "lb"]
[cohort]
sources = ["rnpp", "ccss"]
reference_date = 2020-05-27
min_age = 18
order = "postcode"
[waves]
size = 30
[codes]
valid_until = 2099-12-31
max_uses = 1
[qr]
content = "https://test.example.lu/c/{{code}}"
"""


@SQLITE_ONLY
def test_mutated_campaign_files_never_traceback_and_refusals_change_nothing(
    engine, cli_env, template_copy, tmp_path
):
    valid = CAMPAIGN.format(template=template_copy).encode()
    path = tmp_path / "campaign.toml"
    for result in fuzzed(engine, path, valid, 16, 300, "campaign", "create"):
        if result.exit_code == 0:  # a mutant that is still a campaign: make room for the next one
            engine.dispose()
            with engine.begin() as connection:
                connection.exec_driver_sql("DELETE FROM events")
                connection.exec_driver_sql("DELETE FROM campaigns")
                connection.exec_driver_sql("DELETE FROM template_versions")
