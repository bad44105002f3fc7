"""Engine factory: SQLite (WAL, foreign keys on) or PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from courrier.db.prepared import send
from courrier.db.transaction import WRITE_OPTION
from courrier.errors import ConfigError

# Connections a PostgreSQL engine keeps open (and as many more lent for a moment).
POOL_SIZE = 8


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite connections get WAL, foreign keys and a busy timeout.

    A malformed URL, a plain path or a dialect this installation cannot drive is ``bad_database_url``
    (one line naming the setting), not SQLAlchemy's traceback."""
    try:
        return _make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as error:
        shown = url.rsplit("@", 1)[-1]  # never echo a password
        raise ConfigError(
            f"COURRIER_DATABASE_URL {shown!r} is not a database URL this installation can use ({error});"
            " expected sqlite:///PATH or postgresql+psycopg://user@host/dbname",
            code="bad_database_url",
        ) from error


def _make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ArgumentError(f"unsupported database {parsed.get_backend_name()!r}")
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No ping before each checkout (a round trip for every connection a request takes): after a restart
    # of the server, the first statement on an old connection fails, and that invalidates every
    # connection the pool made before it, so the next checkouts connect anew. The pool keeps what the
    # web layer's database threads use at once (web/auth.py, DATABASE_THREADS), and lends more to
    # the other callers of one process for a moment.
    return create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE)


def missing_sqlite_file(engine: Engine) -> str | None:
    """The path of the engine's SQLite file when it does not exist yet (``None`` otherwise): reading
    commands must not create an empty database by looking at it."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return None if Path(database).exists() else database


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (status, web) run while a long import or compose writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # NORMAL is durable across application crashes in WAL mode; FULL only adds power-loss safety
    # at a large cost on bulk imports.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    # 64 MiB of page cache (the default is 2 MiB): a million-row table's indexes stay in memory while
    # an import or code issue inserts in random key order.
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # A write transaction takes SQLite's write lock at once (see transaction.py). Other transactions
    # keep the driver's own behaviour: it begins (deferred) before the first write.
    # Straight to the driver (db.prepared.send): SQLAlchemy's exec_driver_sql was a quarter of a write
    # transaction's own CPU (its execution context and result, for a statement that returns nothing).
    if connection.get_execution_options().get(WRITE_OPTION):
        send(connection, "BEGIN IMMEDIATE").close()
