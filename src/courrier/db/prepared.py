"""A hot write statement sent straight to the driver's cursor, compiled once per dialect.

SQLAlchemy's execution of a prebuilt statement (its cache key, the compiled cache, the execution
context, the result object) costs about 60 µs of CPU; the driver's own ``cursor.execute`` about 15. The
web write paths send 4 to 6 writes a request, so for those few statements :class:`Prepared` keeps the
SQL text, the parameters' order and their types' bind processors (a timestamp's conversion to UTC, a
SQLite ``DATETIME``'s text) from one compilation of the Core statement per dialect: the ``Table``
metadata stays the one source of the SQL, and the values sent are the ones SQLAlchemy would send.

Writes whose answer is a row count or one returned scalar (an ``INSERT … RETURNING id``), and, with
:class:`PreparedRead`, a hot read of one row (the columns' result processors applied as SQLAlchemy
applies them: a SQLite ``DATETIME``'s text read back, a UTC timestamp made aware). The statement runs
on the connection's own DBAPI connection, inside the caller's transaction; the ``before_cursor_execute``
and ``after_cursor_execute`` events still fire when anything listens (the statement counts of
``bench/web_cost.py``, tests), and a driver error is raised as SQLAlchemy's (``IntegrityError`` and the
rest).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, exc
from sqlalchemy.sql.dml import UpdateBase


@dataclass(frozen=True)
class _Built:
    sql: str
    names: tuple[str, ...]
    constants: Mapping[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]
    positional: bool


class Prepared:
    """``statement`` (an ``INSERT``, ``UPDATE`` or ``DELETE`` with ``bindparam`` values, or an insert
    whose values are given per call) compiled once per dialect for the keys given at the first call.
    Every value must be given: a column's Python-side default is not filled in (refused when built)."""

    def __init__(self, statement: UpdateBase | Select[Any]) -> None:
        self._statement = statement
        self._built: dict[tuple[str, frozenset[str]], _Built] = {}

    def _build(self, connection: Connection, keys: frozenset[str]) -> _Built:
        dialect = connection.dialect
        compiled = self._statement.compile(dialect=dialect, column_keys=sorted(keys))
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise TypeError("a prepared statement is given every value (no Python-side defaults)")
        defaults = compiled.construct_params(dict.fromkeys(keys))
        names = tuple(compiled.positiontup or ()) if dialect.positional else tuple(defaults)
        processors = {}
        for name in names:
            processor = compiled.binds[name].type._cached_bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        constants = {name: value for name, value in defaults.items() if name not in keys}
        return _Built(compiled.string, names, constants, processors, dialect.positional)

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """Send the statement with ``values``; the DBAPI cursor (for ``rowcount`` or ``fetchone``)."""
        key = (connection.dialect.name, frozenset(values))
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._build(connection, key[1])
        processors = built.processors
        merged = {**built.constants, **values} if built.constants else values
        if built.positional:
            parameters: Any = tuple(
                processors[name](merged[name]) if name in processors else merged[name] for name in built.names
            )
        else:
            parameters = {
                name: processors[name](merged[name]) if name in processors else merged[name]
                for name in built.names
            }
        if not connection.in_transaction():
            connection.begin()  # as SQLAlchemy's autobegin would, so that the caller's commit sends one
        return send(connection, built.sql, parameters)

    def rowcount(self, connection: Connection, values: Mapping[str, Any]) -> int:
        cursor = self.execute(connection, values)
        count = int(cursor.rowcount)
        cursor.close()
        return count

    def scalar(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """The first column of the first row returned (``RETURNING``), or ``None`` without a row."""
        row = self.first_row(connection, values)
        return None if row is None else row[0]

    def first_row(self, connection: Connection, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row returned (``RETURNING``) as the driver gives it, or ``None`` without a row: for
        columns the driver returns as Python wants them (integers, text), since no result processor runs."""
        cursor = self.execute(connection, values)
        row = cursor.fetchone()
        cursor.close()
        return None if row is None else tuple(row)


class PreparedRead(Prepared):
    """A ``SELECT`` (its values ``bindparam``s) sent as :class:`Prepared` sends a write; its one row, or
    ``None``, as a named tuple of the statement's column names, each value through its type's result
    processor for this driver's column type (read from the first answer's cursor description, as
    SQLAlchemy's result does)."""

    def __init__(self, statement: Select[Any]) -> None:
        super().__init__(statement)
        self._names = tuple(statement.selected_columns.keys())
        self._readers: dict[str, tuple[Any, tuple[Callable[[Any], Any] | None, ...]]] = {}

    def _reader(self, connection: Connection, description: Any) -> tuple[Any, tuple[Any, ...]]:
        dialect = connection.dialect
        compiled = self._statement.compile(dialect=dialect)
        processors = tuple(
            entry.type._cached_result_processor(dialect, column[1])
            for entry, column in zip(compiled._result_columns, description, strict=True)
        )
        return namedtuple("Row", self._names), processors

    def one_or_none(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        """The statement's one row (``MultipleResultsFound`` if it has more), or ``None``."""
        cursor = self.execute(connection, values)
        rows = cursor.fetchmany(2)
        reader = self._readers.get(connection.dialect.name)
        if reader is None:
            reader = self._readers[connection.dialect.name] = self._reader(connection, cursor.description)
        cursor.close()
        if not rows:
            return None
        if len(rows) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when one or none was required")
        row, processors = reader
        return row._make(
            value if processor is None else processor(value)
            for processor, value in zip(processors, rows[0], strict=True)
        )


def send(connection: Connection, sql: str, parameters: Any = ()) -> Any:
    """``sql`` on a new DBAPI cursor of ``connection``'s own DBAPI connection, as it stands (no
    transaction is begun for it); the cursor. The cursor events fire when anything listens; a driver
    error is raised as SQLAlchemy's."""
    cursor = connection.connection.cursor()
    listened = connection._has_events or connection.engine._has_events
    if listened:
        for listener in connection.dispatch.before_cursor_execute:
            listener(connection, cursor, sql, parameters, None, False)
    try:
        cursor.execute(sql, parameters)
    except connection.dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(
            sql, parameters, error, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect
        ) from error
    if listened:
        for listener in connection.dispatch.after_cursor_execute:
            listener(connection, cursor, sql, parameters, None, False)
    return cursor
