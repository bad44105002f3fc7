"""The write-transaction helper: on SQLite it takes the write lock when it begins."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from courrier.db import make_engine, write_transaction


def _try_write(path: Path) -> None:
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_write_transaction_holds_sqlites_write_lock_from_its_start(tmp_path: Path):
    path = tmp_path / "c.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    with write_transaction(engine) as connection:
        connection.exec_driver_sql("SELECT count(*) FROM t").scalar()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            _try_write(path)
    _try_write(path)  # released at commit
    with engine.begin() as connection:  # an ordinary transaction that only reads takes no lock
        connection.exec_driver_sql("SELECT count(*) FROM t").scalar()
        _try_write(path)
    engine.dispose()


def test_a_write_transaction_commits_or_rolls_back_as_a_whole(engine):
    with write_transaction(engine) as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (n INTEGER)")
        connection.exec_driver_sql("INSERT INTO scratch VALUES (1)")
    with pytest.raises(RuntimeError):
        _insert_then_crash(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM scratch").scalars().all() == [1]
        connection.exec_driver_sql("DROP TABLE scratch")
        connection.commit()


def _insert_then_crash(engine):
    with write_transaction(engine) as connection:
        connection.exec_driver_sql("INSERT INTO scratch VALUES (2)")
        raise RuntimeError("crash before commit")
