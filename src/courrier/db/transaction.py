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

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite

from courrier.db.prepared import Prepared

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


class InsertUnlessTaken:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` into ``table``, built once per dialect: called
    with a connection and the row's values, it gives the new row's id, or ``None`` when a UNIQUE
    constraint (of ``conflict``'s columns, or any) already holds one of its values, a twin's nonce say.

    Instead of an ``INSERT`` whose ``IntegrityError`` is caught inside a savepoint: nothing fails, so
    the transaction goes on with no ``SAVEPOINT`` and ``RELEASE`` (two round trips on PostgreSQL, where
    a failed statement aborts the transaction). A concurrent transaction inserting the same value is
    waited for, as for a plain INSERT; once it commits, the row is not inserted, and a read of the
    twin (READ COMMITTED) finds it. Other failures (a foreign key, NOT NULL, a CHECK) still raise."""

    def __init__(self, table: Table, conflict: Sequence[str] | None = None) -> None:
        self._table = table
        self._conflict = conflict
        self._built: dict[str, Prepared] = {}

    def __call__(self, connection: Connection, values: Mapping[str, Any]) -> int | None:
        """Sent through the driver's cursor (``db.prepared``): every column's value must be given."""
        name = connection.dialect.name
        statement = self._built.get(name)
        if statement is None:
            insert = postgresql.insert if name == "postgresql" else sqlite.insert
            statement = self._built[name] = Prepared(
                insert(self._table)
                .on_conflict_do_nothing(index_elements=self._conflict)
                .returning(self._table.c.id)
            )
        found = statement.scalar(connection, values)
        return None if found is None else int(found)
