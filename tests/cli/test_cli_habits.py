"""The command line's habits (issue 11): fast help, one-line errors with codes, JSON on failure too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from courrier.cli import COMMANDS, courrier

HEAVY = ("faker", "pyarrow", "alembic", "dask", "distributed", "pikepdf")


def test_importing_the_cli_loads_no_heavy_library():
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import courrier.cli"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert not [name for name in HEAVY if name in imported]


def test_every_listed_command_loads_and_help_is_fast_to_print():
    context = click.Context(courrier)
    for name in COMMANDS:
        command = courrier.get_command(context, name)
        assert command is not None, name
        assert command.name in (name, f"{name}_command"), (name, command.name)
    result = CliRunner().invoke(courrier, ["--help"])
    assert result.exit_code == 0
    assert all(name in result.output for name in COMMANDS)


def test_json_failure_prints_the_error_object_on_stdout(cli_env):
    result = CliRunner().invoke(courrier, ["status", "nope", "--json"])
    assert result.exit_code == 1
    first = result.stdout[: result.stdout.rindex("}") + 1]
    assert json.loads(first) == {
        "error": {"code": "unknown_campaign", "message": json.loads(first)["error"]["message"]}
    }
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("not a url", "bad_database_url"),
        ("courrier.db", "bad_database_url"),
        ("oracle+nothing://u@h/d", "bad_database_url"),
        # reading commands: no such file yet; db upgrade: the folder cannot hold one
        ("sqlite:////nonexistent-folder/sub/courrier.db", "database_not_migrated|database_unreachable"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "database_unreachable"),
    ],
)
def test_a_bad_database_url_is_one_line(url: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def one_line(command: list[str], returncode: int, stderr: str) -> None:
        assert returncode == 1, (command, stderr)
        assert "Traceback" not in stderr, stderr
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert any(f"[{one}]" in stderr for one in code.split("|")), stderr

    # One real process per URL (what a user's shell sees: the exit status and stderr of
    # `python -m courrier`); the other commands in this process, through the same click group and
    # error mapping, where an uncaught error would be CliRunner's exception instead of a SystemExit.
    # Fifteen interpreter starts made these five tests 11.2 s (quiet machine); five make them 3.4 s.
    env = {**os.environ, "COURRIER_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "courrier", "db", "status"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    one_line(["db", "status"], done.returncode, done.stderr)
    monkeypatch.chdir(tmp_path)
    for command in (["db", "upgrade"], ["campaign", "list"]):
        result = CliRunner().invoke(courrier, command, env={"COURRIER_DATABASE_URL": url})
        assert isinstance(result.exception, SystemExit), (command, result.exception)
        one_line(command, result.exit_code, result.stderr)


def test_db_status_and_campaign_list_create_no_database(tmp_path: Path):
    env = {**os.environ, "COURRIER_DATABASE_URL": f"sqlite:///{tmp_path / 'courrier.db'}"}
    for command in (["db", "status"], ["campaign", "list"]):
        done = subprocess.run(
            [sys.executable, "-m", "courrier", *command], capture_output=True, text=True, env=env, check=False
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert "[database_not_migrated]" in done.stderr
    assert not (tmp_path / "courrier.db").exists()


def _register(tmp_path: Path) -> list[str]:
    from courrier.register.generate import generate_register

    generate_register(tmp_path / "r.csv", people=12, cross_border=0, seed=4)
    return (tmp_path / "r.csv").read_text("utf-8").split("\n")


def _import(path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(courrier, ["register", "import", str(path)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_a_register_header_with_a_column_twice_is_refused(cli_env, tmp_path: Path):
    lines = _register(tmp_path)
    header = lines[0].split(",")
    header[2] = header[1]
    (tmp_path / "dup.csv").write_text("\n".join([",".join(header), *lines[1:]]), "utf-8")
    code, out = _import(tmp_path / "dup.csv")
    assert code == 1
    assert "[duplicate_column]" in out


def test_a_register_with_bare_carriage_returns_is_one_line(cli_env, tmp_path: Path):
    (tmp_path / "cr.csv").write_text("\r".join(_register(tmp_path)), "utf-8")
    code, out = _import(tmp_path / "cr.csv")
    assert code == 1
    assert "[bad_line_endings]" in out


def test_a_stray_quote_rejects_every_person_it_swallows_with_a_line(cli_env, tmp_path: Path):
    lines = _register(tmp_path)
    fields = lines[5].split(",")
    fields[3] = '"' + fields[3]
    lines[5] = ",".join(fields)
    (tmp_path / "stray.csv").write_text("\n".join(lines), "utf-8")
    code, out = _import(tmp_path / "stray.csv")
    assert code == 0, out
    rejected = (tmp_path / "stray.rejects.csv").read_text("utf-8-sig").splitlines()[1:]
    people = [line for line in lines[1:] if line.strip()]
    assert len(rejected) == len(people) - 4  # lines 6 to the end of the file, each one reported
    assert {int(line.split(",")[0]) for line in rejected} == set(range(6, len(people) + 2))


def test_a_field_beyond_the_csv_limit_is_a_reject_not_a_traceback(cli_env, tmp_path: Path):
    lines = _register(tmp_path)
    fields = lines[3].split(",")
    fields[3] = '"' + "x" * 200_000
    lines[3] = ",".join(fields)
    (tmp_path / "big.csv").write_text("\n".join(lines), "utf-8")
    code, out = _import(tmp_path / "big.csv")
    assert code == 0, out
    assert "rejected" in out


@pytest.mark.parametrize("command", ["render", "check"])
def test_a_latin1_or_empty_records_file_is_one_line(command: str, tmp_path: Path):
    template = Path(__file__).resolve().parents[2] / "examples" / "templates" / "mass-testing"
    latin = tmp_path / "records.jsonl"
    latin.write_bytes('{"person": {"family_name": "Müller"}}\n'.encode("latin-1"))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", "utf-8")
    extra = ["-o", str(tmp_path / "out.pdf")] if command == "render" else []
    for records, code in ((latin, "bad_record"), (empty, "no_records")):
        if command == "check" and code == "no_records":
            continue
        result = CliRunner().invoke(
            courrier, ["template", command, str(template), "--records", str(records), *extra]
        )
        assert result.exit_code == 1, result.output
        assert f"[{code}]" in result.output
    assert not (tmp_path / "out.pdf").exists()
