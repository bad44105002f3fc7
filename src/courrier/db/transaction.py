"""The transaction rule, in one helper.

A short use case (use a code, re-issue a letter, later: book a slot) takes a ``Connection`` inside the
transaction its caller opens with :func:`write_transaction`; a long resumable job (an import, issuing a
million codes, composing a wave) takes the engine and commits in chunks, each chunk in its own
:func:`write_transaction`. Nothing else opens write transactions.

Why a helper: SQLite starts a plain ``BEGIN`` as a reader and upgrades to a writer on the first write;
two such transactions that both read and then write deadlock, and the loser fails at once with
"database is locked" instead of waiting. ``BEGIN IMMEDIATE`` takes the write lock up front, so writers
queue (up to the busy timeout) and each sees the others' committed work. PostgreSQL needs nothing
special: the guarded ``UPDATE … WHERE`` and the UNIQUE constraints do the work at READ COMMITTED.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Connection, Engine

# The execution option that asks the SQLite connection to begin with BEGIN IMMEDIATE (engine.py).
WRITE_OPTION = "courrier_write"


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: committed when the block ends, rolled back if it raises."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            yield connection


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection to read with, outside any write transaction (a request's session lookup, code
    entry). On PostgreSQL it runs in autocommit: at READ COMMITTED each statement of a transaction
    takes its own snapshot anyway, so the reads see the same, and the driver sends no ``BEGIN`` before
    them nor ``ROLLBACK`` when the connection goes back to the pool (two round trips of three for a
    one-statement read). SQLite's driver begins nothing before a read: nothing to change there."""
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def statement_savepoint(connection: Connection) -> AbstractContextManager[Any]:
    """What to wrap one statement in when its ``IntegrityError`` is caught and the transaction goes on
    (a retried nonce's INSERT): a savepoint on PostgreSQL, where a failed statement aborts the whole
    transaction; nothing on SQLite, where a failed statement's changes are undone and the transaction
    stays (SQLite's ABORT). Saves two statements a request there, and SQLAlchemy compiles a SAVEPOINT
    anew every time (its name is new each time). For one statement only: a block of several would keep
    the earlier ones' changes on SQLite."""
    if connection.dialect.name == "sqlite":
        return nullcontext()
    return connection.begin_nested()
