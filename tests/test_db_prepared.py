"""db.prepared: a write sent through the driver's cursor stores what SQLAlchemy would have stored."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, bindparam, event, select
from sqlalchemy.exc import IntegrityError, MultipleResultsFound

from courrier.db.prepared import Prepared, PreparedRead
from courrier.db.schema import events
from courrier.db.transaction import write_transaction

AT = dt.datetime(2021, 1, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
ROW = {"actor": "test", "type": "test.done", "campaign_id": None, "piece_id": None, "code_id": None}
INSERT = Prepared(events.insert().returning(events.c.id))
REASON = Prepared(
    events.update().where(events.c.id == bindparam("event"), events.c.reason.is_(None)).values(reason="why")
)

REASON_RETURNING = Prepared(
    events.update()
    .where(events.c.id == bindparam("event"), events.c.reason.is_(None))
    .values(reason="why")
    .returning(events.c.id, events.c.type)
)


def _stored(engine: Engine, event_id: int) -> tuple[object, ...]:
    with engine.connect() as connection:
        return tuple(connection.execute(select(events).where(events.c.id == event_id)).one())


def test_a_prepared_insert_stores_what_sqlalchemy_stores(engine: Engine):
    with write_transaction(engine) as connection:
        ours = INSERT.scalar(connection, {**ROW, "at": AT, "reason": None, "details": "{}"})
        theirs = connection.execute(
            events.insert().returning(events.c.id), {**ROW, "at": AT, "reason": None, "details": "{}"}
        ).scalar_one()
    assert _stored(engine, ours)[1:] == _stored(engine, theirs)[1:]
    assert _stored(engine, ours)[1] == AT  # back in UTC, the same instant
    with engine.connect() as connection:  # the same text on SQLite, where it is compared as text
        raw = connection.exec_driver_sql(f"SELECT at FROM events WHERE id IN ({ours}, {theirs})").all()
    assert raw[0] == raw[1]


def test_a_guarded_prepared_update_counts_its_rows(engine: Engine):
    with write_transaction(engine) as connection:
        event_id = INSERT.scalar(connection, {**ROW, "at": AT, "reason": None, "details": None})
        assert REASON.rowcount(connection, {"event": event_id}) == 1
        assert REASON.rowcount(connection, {"event": event_id}) == 0  # the guard holds
    assert _stored(engine, event_id)[7] == "why"


def test_a_guarded_prepared_update_returns_its_row_once(engine: Engine):
    with write_transaction(engine) as connection:
        event_id = INSERT.scalar(connection, {**ROW, "at": AT, "reason": None, "details": None})
        assert REASON_RETURNING.first_row(connection, {"event": event_id}) == (event_id, "test.done")
        assert REASON_RETURNING.first_row(connection, {"event": event_id}) is None  # the guard holds
    assert _stored(engine, event_id)[7] == "why"


def test_statements_are_seen_by_listeners_and_failures_are_sqlalchemy_errors(engine: Engine):
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", record)
    try:
        with pytest.raises(IntegrityError), write_transaction(engine) as connection:
            INSERT.scalar(connection, {**ROW, "actor": None, "at": AT, "reason": None, "details": None})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "INSERT" in seen


def test_a_prepared_write_outside_a_transaction_is_committed_by_the_callers_commit(engine: Engine):
    with engine.connect() as connection:
        event_id = INSERT.scalar(connection, {**ROW, "at": AT, "reason": None, "details": None})
        connection.commit()
    assert _stored(engine, event_id)[0] == event_id


READ = PreparedRead(
    select(events.c.id, events.c.at, events.c.actor.label("who"), events.c.details).where(
        events.c.type == bindparam("type")
    )
)


def test_a_prepared_read_gives_the_row_sqlalchemy_gives(engine: Engine):
    with write_transaction(engine) as connection:
        values = {**ROW, "type": "test.one", "at": AT, "reason": None, "details": '{"a": 1}'}
        INSERT.scalar(connection, values)
        ours = READ.one_or_none(connection, {"type": "test.one"})
        theirs = connection.execute(READ._statement, {"type": "test.one"}).one()
    assert tuple(ours) == tuple(theirs)
    assert ours._fields == tuple(theirs._fields) == ("id", "at", "who", "details")
    assert ours.at == AT  # read back aware, the same instant
    assert ours.at.tzinfo is not None


def test_a_prepared_read_of_no_row_is_none_and_of_two_rows_an_error(engine: Engine):
    with write_transaction(engine) as connection:
        assert READ.one_or_none(connection, {"type": "test.none"}) is None
        for _ in range(2):
            INSERT.scalar(connection, {**ROW, "type": "test.two", "at": AT, "reason": None, "details": None})
        with pytest.raises(MultipleResultsFound):
            READ.one_or_none(connection, {"type": "test.two"})
