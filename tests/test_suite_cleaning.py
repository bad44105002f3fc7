"""The suite's own emptying of the PostgreSQL database between tests (tests/conftest.py): a table over
SMALL_TABLE_ROWS is truncated (with the tables referring to it), the others deleted from; either way every
table ends empty and every sequence starts again, as a new database would."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from courrier.db.schema import metadata, persons, register_imports

from .campaigns.conftest import add_persons
from .conftest import SMALL_TABLE_ROWS, empty_postgres


def _rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table.name: int(connection.execute(select(func.count()).select_from(table)).scalar_one())
            for table in metadata.sorted_tables
        }


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_large_table_and_small_ones_end_empty_and_their_ids_start_again(engine, postgres_cleaner):
    add_persons(engine, *[{} for _ in range(SMALL_TABLE_ROWS + 1)])  # persons: TRUNCATE
    add_persons(engine, {})  # a second register import: DELETE
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(register_imports)).scalar_one() == 2
    empty_postgres(postgres_cleaner)
    assert set(_rows(engine).values()) == {0}
    assert add_persons(engine, {}) == [1]
    with engine.connect() as connection:
        assert connection.execute(select(register_imports.c.id)).scalar_one() == 1
        assert connection.execute(select(persons.c.id)).scalar_one() == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_small_tables_end_empty_and_their_ids_start_again(engine, postgres_cleaner):
    add_persons(engine, {}, {})
    empty_postgres(postgres_cleaner)
    assert set(_rows(engine).values()) == {0}
    assert add_persons(engine, {}) == [1]
