from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    event,
    inspect,
    select,
)

from courrier.cli import courrier
from courrier.db import current_revision, head_revision, make_engine, require_current
from courrier.db.bulk import bulk_execute, bulk_insert, select_where_in, update_where_in
from courrier.db.schema import metadata
from courrier.db.types import UTCDateTime
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


# --- db/bulk.py: what it relies on in SQLAlchemy's private API, checked directly on both databases ---

_SAMPLES = Table(
    "bulk_samples",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("name", Text, nullable=False),
    Column("born", Date),
    Column("seen_at", UTCDateTime),
    Column("flag", Boolean, nullable=False),
)


def _sample_rows() -> list[dict[str, Any]]:
    at = dt.datetime(2026, 3, 12, 8, 30, tzinfo=dt.UTC)
    return [
        {
            "id": n,
            "name": f"name {n} ‘é’",
            "born": dt.date(1950 + n % 3, 1, 1) if n % 4 else None,
            "seen_at": at + dt.timedelta(hours=n % 2) if n % 5 else None,
            "flag": n % 2 == 0,
        }
        for n in range(1, 13)
    ]


@pytest.fixture
def samples(engine):
    _SAMPLES.create(engine)
    yield engine
    _SAMPLES.drop(engine)


def _sent(engine, run) -> list[Any]:
    """The SQL and parameters the driver received while ``run(connection)`` ran."""
    seen: list[Any] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    with engine.begin() as connection:
        event.listen(connection, "before_cursor_execute", capture)
        run(connection)
        event.remove(connection, "before_cursor_execute", capture)
        connection.execute(_SAMPLES.delete())
    return seen


def test_the_private_api_bulk_relies_on_is_there(engine):
    """Type processors cached per dialect, a compiled statement's parameter order, the dialect's
    paramstyle and identifier quoting: the names bulk.py uses."""
    dialect = engine.dialect
    for column in _SAMPLES.c:
        bind = column.type._cached_bind_processor(dialect)
        result = column.type._cached_result_processor(dialect, None)
        assert bind is None or callable(bind)
        assert result is None or callable(result)
    assert callable(_SAMPLES.c.seen_at.type._cached_bind_processor(dialect))  # our UTC type always is
    compiled = _SAMPLES.insert().compile(dialect=dialect, column_keys=["name", "id"])
    if dialect.paramstyle == "qmark":
        assert list(compiled.positiontup) == ["id", "name"]
    else:
        assert compiled.positiontup is None
        assert dialect.paramstyle in ("pyformat", "format")
    preparer = dialect.identifier_preparer
    assert preparer.format_table(_SAMPLES) == "bulk_samples"
    assert preparer.format_column(_SAMPLES.c.name) == "name"


def test_bulk_writes_send_what_sqlalchemy_sends(samples):
    """bulk_insert hands the driver exactly SQLAlchemy's own SQL and values (dates, UTC timestamps,
    flags, NULLs), and reads give back what SQLAlchemy's own reads give."""
    ours = _sent(samples, lambda connection: bulk_insert(connection, _SAMPLES, _sample_rows()))
    theirs = _sent(samples, lambda connection: connection.execute(_SAMPLES.insert(), _sample_rows()))
    assert len(ours) == 1

    def values(sent: list[Any]) -> list[Any]:
        rows = [row for _, parameters in sent for row in parameters]
        return [tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in rows]

    assert values(ours) == values(theirs)
    assert ours[0][0].split("VALUES")[0] == theirs[0][0].split("VALUES")[0]

    with samples.begin() as connection:
        bulk_insert(connection, _SAMPLES, _sample_rows())
        columns = list(_SAMPLES.c)
        expected = [tuple(row) for row in connection.execute(select(*columns).order_by(_SAMPLES.c.id))]
        assert expected == [tuple(row.values()) for row in _sample_rows()]
        found = sorted(select_where_in(connection, columns, _SAMPLES.c.id, list(range(1, 13)), batch=5))
        assert found == expected
        later = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
        update_where_in(connection, _SAMPLES, _SAMPLES.c.id, [2, 3, 11], {"seen_at": later, "flag": True})
        changed = connection.execute(
            select(_SAMPLES.c.id, _SAMPLES.c.seen_at, _SAMPLES.c.flag).where(_SAMPLES.c.seen_at == later)
        ).all()
        assert sorted(changed) == [(2, later, True), (3, later, True), (11, later, True)]
        statement = (
            _SAMPLES.update()
            .where(_SAMPLES.c.id == bindparam("b_id"))
            .values(born=bindparam("b_born"), name=bindparam("b_name"))
        )
        bulk_execute(
            connection, statement, _SAMPLES, [{"b_id": 1, "b_born": dt.date(2001, 2, 3), "b_name": "x"}]
        )
        row = connection.execute(select(_SAMPLES.c.born, _SAMPLES.c.name).where(_SAMPLES.c.id == 1)).one()
        assert tuple(row) == (dt.date(2001, 2, 3), "x")
