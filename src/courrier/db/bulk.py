"""Bulk reads and writes for the hot paths (register import, code issuing): many rows, few statements.

SQLAlchemy's ``connection.execute(stmt, list_of_dicts)`` and ``column.in_(values)`` run every value of
every row through its generic parameter machinery, which costs more than the database's own work for a
million rows. Here each statement is compiled once for the connection's dialect, each column's bind or
result processor (dates as text on SQLite, our UTC timestamps, flags) is looked up once and applied to the
distinct values of a column, and the rows go to the driver's ``executemany`` as plain tuples. Values stay
exactly what SQLAlchemy itself would have sent and returned.

It relies on private SQLAlchemy API: ``TypeEngine._cached_bind_processor`` and
``_cached_result_processor``, ``Compiled.positiontup``, the dialect's ``paramstyle`` and
``identifier_preparer``. ``pyproject.toml`` pins SQLAlchemy to the versions the suite passed on, and
``tests/test_db.py`` checks those names and that the driver receives what SQLAlchemy would send, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Connection, Table, select
from sqlalchemy.sql.dml import Insert, Update


def bulk_insert(
    connection: Connection,
    table: Table,
    rows: Sequence[MutableMapping[str, Any]],
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (all with the same keys); ``constants`` are columns set alike on every row.

    The rows are consumed: their values may be replaced by what the driver receives (a date by its text
    on SQLite, for instance).
    """
    if rows:
        _executemany(connection, table.insert(), table, list(rows[0]), rows, constants or {})


def bulk_execute(
    connection: Connection, statement: Insert | Update, table: Table, rows: Sequence[MutableMapping[str, Any]]
) -> None:
    """Run an insert or update whose parameters are named after ``table``'s columns or ``b_<column>``.

    The rows are consumed, as with :func:`bulk_insert`.
    """
    if rows:
        _executemany(connection, statement, table, list(rows[0]), rows, {})


def _column(table: Table, key: str) -> Column[Any]:
    return table.c[key.removeprefix("b_")]


def _executemany(
    connection: Connection,
    statement: Insert | Update,
    table: Table,
    keys: list[str],
    rows: Sequence[MutableMapping[str, Any]],
    constants: Mapping[str, Any],
) -> None:
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, column_keys=[*keys, *constants])
    order = list(compiled.positiontup) if compiled.positiontup is not None else [*keys, *constants]
    variable = [key for key in order if key not in constants]
    fixed_keys = [key for key in order if key in constants]
    fixed = tuple(_bind_one(_column(table, key), constants[key], connection) for key in fixed_keys)

    for key in variable:
        processor = _column(table, key).type._cached_bind_processor(dialect)
        if processor is not None:
            _process_in_place(processor, rows, key)
    pick = itemgetter(*variable)
    tuples: list[tuple[Any, ...]] = (
        [pick(row) for row in rows] if len(variable) > 1 else [(pick(row),) for row in rows]
    )
    if fixed:
        # Put the constants back in the statement's parameter order.
        combined = [*variable, *fixed_keys]
        reorder = itemgetter(*[combined.index(key) for key in order])
        tuples = [reorder(values + fixed) for values in tuples]
    if compiled.positiontup is not None:
        connection.exec_driver_sql(str(compiled), tuples)
    else:
        connection.exec_driver_sql(
            str(compiled), [dict(zip(order, values, strict=True)) for values in tuples]
        )


def _bind_one(column: Column[Any], value: Any, connection: Connection) -> Any:
    processor = column.type._cached_bind_processor(connection.dialect)
    return processor(value) if processor else value


def _process_in_place(
    processor: Callable[[Any], Any], rows: Sequence[MutableMapping[str, Any]], key: str
) -> None:
    # Processed columns are dates, timestamps and flags: many rows share a value, processed once.
    processed: dict[Any, Any] = {}
    for row in rows:
        value = row[key]
        if value not in processed:
            processed[value] = processor(value)
        row[key] = processed[value]


def _map_distinct(processor: Callable[[Any], Any] | None, values: list[Any]) -> Sequence[Any]:
    if processor is None:
        return values
    # Processed columns are dates, timestamps and flags: few distinct values in a chunk, each
    # processed once.
    processed = {value: processor(value) for value in set(values)}
    return [processed[value] for value in values]


def select_where_in(
    connection: Connection,
    columns: Sequence[Column[Any]],
    key: Column[Any],
    values: Sequence[Any],
    batch: int = 5_000,
) -> list[tuple[Any, ...]]:
    """Rows of ``columns`` whose ``key`` is one of ``values`` (any number of them)."""
    dialect = connection.dialect
    head = str(select(*columns).compile(dialect=dialect))
    key_name = dialect.identifier_preparer.format_column(key)
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    processors = [column.type._cached_result_processor(dialect, None) for column in columns]
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(values), batch):
        part = tuple(values[start : start + batch])
        sql = f"{head} WHERE {key_name} IN ({', '.join([mark] * len(part))})"
        found.extend(tuple(row) for row in connection.exec_driver_sql(sql, part))
    if found and any(processors):
        transposed = [
            _map_distinct(processor, list(column))
            for processor, column in zip(processors, zip(*found, strict=True), strict=True)
        ]
        found = list(zip(*transposed, strict=True))
    return found


def update_where_in(
    connection: Connection,
    table: Table,
    key: Column[Any],
    values: Sequence[Any],
    assignments: Mapping[str, Any],
    batch: int = 5_000,
) -> None:
    """Set ``assignments`` on the rows of ``table`` whose ``key`` is one of ``values``."""
    dialect = connection.dialect
    names = list(assignments)
    bound = [_bind_one(table.c[name], assignments[name], connection) for name in names]
    preparer = dialect.identifier_preparer
    key_name = preparer.format_column(key)
    qmark = dialect.paramstyle == "qmark"
    setters = ", ".join(
        f"{preparer.format_column(table.c[name])} = {'?' if qmark else f'%({name})s'}" for name in names
    )
    head = f"UPDATE {preparer.format_table(table)} SET {setters} WHERE {key_name} IN "
    for start in range(0, len(values), batch):
        part = tuple(values[start : start + batch])
        if qmark:
            connection.exec_driver_sql(head + f"({', '.join('?' * len(part))})", (*bound, *part))
        else:
            marks = ", ".join(f"%(k{index})s" for index in range(len(part)))
            params = dict(zip(names, bound, strict=True)) | {
                f"k{index}": value for index, value in enumerate(part)
            }
            connection.exec_driver_sql(head + f"({marks})", params)
