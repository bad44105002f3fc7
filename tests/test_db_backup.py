"""`courrier db backup FILE` (issue 17): a copy restored as docs/operations.md says holds the same rows,
on SQLite (online backup) and PostgreSQL (pg_dump, pg_restore)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from courrier.cli import courrier
from courrier.db import make_engine
from courrier.db.schema import events, persons, pieces

from .conftest import require_binary
from .production.conftest import add_campaign_with_pieces


def _counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = tuple(
            int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (persons, pieces, events)
        )
    engine.dispose()
    return found  # type: ignore[return-value]


def _restore_postgres(dump: Path, url: str, admin_url: str) -> str:
    """As docs/operations.md: an empty database, then pg_restore into it."""
    name = f"{make_url(url).database}_restored"
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    restored = make_url(url).set(database=name)
    query = dict(restored.query)
    host = ["--host", str(query.get("host", restored.host))] if query.get("host", restored.host) else []
    port = ["--port", str(query.get("port", restored.port))] if query.get("port", restored.port) else []
    subprocess.run(
        [require_binary("pg_restore"), *host, *port, "--username", restored.username or "postgres",
         "--no-owner", "--dbname", name, str(dump)],
        check=True, capture_output=True,
    )  # fmt: skip
    return restored.render_as_string(hide_password=False)


def test_backup_restores_to_the_same_rows(cli_env: str, tmp_path: Path, request: pytest.FixtureRequest):
    engine = make_engine(cli_env)
    add_campaign_with_pieces(engine, 25)
    engine.dispose()
    before = _counts(cli_env)
    target = tmp_path / "backup.db"

    done = CliRunner().invoke(courrier, ["db", "backup", str(target)])
    assert done.exit_code == 0, done.output
    assert "bytes" in done.output
    assert not target.with_name("backup.db.partial").exists()
    if cli_env.startswith("sqlite"):
        restored = tmp_path / "restored.db"
        shutil.copyfile(target, restored)
        url = f"sqlite:///{restored}"
        assert _counts(url) == before
    else:
        admin_url = request.getfixturevalue("postgres_admin_url")
        url = _restore_postgres(target, cli_env, admin_url)
        try:
            assert _counts(url) == before
        finally:
            admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)"))
            admin.dispose()
    assert before[1] == 25

    again = CliRunner().invoke(courrier, ["db", "backup", str(target)])
    assert again.exit_code == 1
    assert "[file_exists]" in again.output
