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
def test_a_bad_database_url_is_one_line(url: str, code: str, tmp_path: Path):
    env = {**os.environ, "COURRIER_DATABASE_URL": url}
    for command in (["db", "status"], ["db", "upgrade"], ["campaign", "list"]):
        done = subprocess.run(
            [sys.executable, "-m", "courrier", *command],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            check=False,
        )
        assert done.returncode == 1, (command, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert any(f"[{one}]" in done.stderr for one in code.split("|")), done.stderr


def test_db_status_and_campaign_list_create_no_database(tmp_path: Path):
    env = {**os.environ, "COURRIER_DATABASE_URL": f"sqlite:///{tmp_path / 'courrier.db'}"}
    for command in (["db", "status"], ["campaign", "list"]):
        done = subprocess.run(
            [sys.executable, "-m", "courrier", *command], capture_output=True, text=True, env=env, check=False
        )
        assert done.returncode == 1, done.stdout + done.stderr
        assert "[database_not_migrated]" in done.stderr
    assert not (tmp_path / "courrier.db").exists()
