from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from courrier.db.schema import events, pieces
from courrier.ledger.pieces import ALLOWED, can_move, move_pieces, piece_states

from .conftest import AT


def test_an_inserted_piece_can_never_be_composed_again():
    assert not can_move("inserted", "composed")
    assert not can_move("posted", "composed")
    assert all(not can_move(final, other) for final in ("withdrawn", "reissued") for other in ALLOWED)


def test_moving_pieces_records_one_event_each(engine, planned_pieces):
    with engine.begin() as connection:
        refused = move_pieces(
            connection, planned_pieces[:4], "composed", actor="op", at=AT, reason="job J000001"
        )
    assert refused == {}
    with engine.connect() as connection:
        assert piece_states(connection, planned_pieces) == {
            **dict.fromkeys(planned_pieces[:4], "composed"),
            **dict.fromkeys(planned_pieces[4:], "planned"),
        }
        logged = connection.execute(select(events).where(events.c.type == "piece.composed")).all()
    assert sorted(row.piece_id for row in logged) == sorted(planned_pieces[:4])
    assert {row.actor for row in logged} == {"op"}
    assert {json.loads(row.details)["from"] for row in logged} == {"planned"}


def test_a_forbidden_move_changes_nothing_and_says_why(engine, planned_pieces):
    with engine.begin() as connection:
        refused = move_pieces(connection, [planned_pieces[0], 999_999], "inserted", actor="op", at=AT)
    assert refused == {planned_pieces[0]: "planned", 999_999: "unknown"}
    with engine.connect() as connection:
        assert (
            connection.execute(select(pieces.c.state).where(pieces.c.id == planned_pieces[0])).scalar()
            == "planned"
        )
        assert connection.execute(select(events)).first() is None


def test_a_failed_transaction_leaves_neither_state_nor_event(engine, planned_pieces):
    try:
        with engine.begin() as connection:
            move_pieces(connection, planned_pieces, "composed", actor="op", at=AT)
            raise RuntimeError("crash before commit")
    except RuntimeError:
        pass
    with engine.connect() as connection:
        assert set(piece_states(connection, planned_pieces).values()) == {"planned"}
        assert connection.execute(select(events)).first() is None


def test_a_job_name_taken_by_a_simultaneous_run_is_a_conflict(engine, planned_pieces):
    from courrier.errors import ConflictError
    from courrier.production.jobs import job_name, next_job_number

    from .conftest import add_job

    with engine.connect() as connection:
        name = job_name(next_job_number(connection))  # both runs read the same next number...
    add_job(engine, name, planned_pieces[:2])  # ...one of them creates it first
    with pytest.raises(ConflictError) as caught:
        add_job(engine, name, planned_pieces[2:4])
    assert caught.value.code == "job_name_taken"
