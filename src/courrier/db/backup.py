"""A consistent copy of the database while it is in use: SQLite's online backup, or ``pg_dump``.

SQLite: the backup API copies the database page by page from a read transaction, so the copy is one
consistent state even while the web app and commands write (WAL: writers are not blocked). The copy
is a plain SQLite file (no -wal beside it); restore by stopping the server and putting it back.
PostgreSQL: ``pg_dump --format=custom``, a consistent snapshot too, restored with ``pg_restore``.
Never over an existing file: an old backup is not replaced by mistake.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import Engine

from courrier.errors import ConfigError, ConflictError


def backup_database(engine: Engine, target: Path) -> str:
    """Copy the database to ``target``; returns how (``sqlite online backup`` or ``pg_dump``)."""
    if target.exists():
        raise ConflictError(
            f"{target} already exists: not overwritten (choose a new file name)", code="file_exists"
        )
    if engine.dialect.name == "sqlite":
        _sqlite_backup(engine, target)
        return "sqlite online backup"
    _pg_dump(engine, target)
    return "pg_dump --format=custom"


def _sqlite_backup(engine: Engine, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    raw = engine.raw_connection()
    try:
        source = raw.driver_connection
        assert isinstance(source, sqlite3.Connection)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=4096)  # in steps, so writers get the lock between them
        finally:
            copy.close()
    finally:
        raw.close()
    os.replace(partial, target)  # a backup interrupted halfway is never taken for a whole one


def _pg_dump(engine: Engine, target: Path) -> None:
    program = shutil.which("pg_dump")
    if program is None:
        raise ConfigError("pg_dump is not installed (Debian: postgresql-client)", code="pg_dump_missing")
    url = engine.url
    # pg_dump reads the connection from the environment (libpq), never a password on a command line.
    env = {**os.environ, "PGDATABASE": url.database or "", "PGUSER": url.username or ""}
    env |= {"PGPASSWORD": url.password} if url.password else {}
    query = dict(url.query)
    host = str(query.get("host", url.host or ""))
    env |= {"PGHOST": host} if host else {}
    port = query.get("port", url.port)
    env |= {"PGPORT": str(port)} if port else {}
    partial = target.with_name(target.name + ".partial")
    done = subprocess.run(
        [program, "--format=custom", "--no-owner", "--file", str(partial)],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"pg_dump failed: {done.stderr.strip()}", code="backup_failed")
    os.replace(partial, target)
