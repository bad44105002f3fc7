from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from courrier.cli import courrier
from courrier.db import current_revision, head_revision, make_engine, require_current
from courrier.db.schema import metadata
from courrier.errors import DatabaseNotMigratedError


def test_migrated_database_matches_schema(engine):
    inspector = inspect(engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
    assert current_revision(engine) == head_revision()


def test_unmigrated_database_is_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseNotMigratedError) as caught:
        require_current(engine)
    assert caught.value.code == "database_not_migrated"
    assert "courrier db upgrade" in str(caught.value)


def test_db_upgrade_command_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COURRIER_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    runner = CliRunner()
    first = runner.invoke(courrier, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "migrated from empty" in first.output
    second = runner.invoke(courrier, ["db", "upgrade"])
    assert second.exit_code == 0
    assert "already at revision" in second.output


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
