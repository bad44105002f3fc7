"""The suite's snapshot of a setup (tests/production/conftest.py): restored into an empty database, it
gives the same rows, and the next ids follow on from the setup's, as if the setup had run again."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from courrier.db.schema import metadata, pieces

from ..conftest import empty_postgres
from .conftest import AT, add_campaign_with_pieces, restore_snapshot, take_snapshot


def _empty(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        empty_postgres(engine)
        return
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def _add_piece(engine: Engine) -> int:
    with engine.begin() as connection:
        campaign, wave, person = connection.execute(
            select(pieces.c.campaign_id, pieces.c.wave_id, pieces.c.person_id).limit(1)
        ).one()
        sequence = connection.execute(select(func.max(pieces.c.sequence))).scalar_one() + 1
        return int(
            connection.execute(
                pieces.insert().values(
                    campaign_id=campaign,
                    wave_id=wave,
                    person_id=person,
                    sequence=sequence,
                    reissue_number=1,
                    state="planned",
                    created_at=AT,
                    updated_at=AT,
                )
            ).inserted_primary_key[0]
        )


def test_a_restored_snapshot_has_the_same_rows_and_the_next_ids_follow(engine):
    add_campaign_with_pieces(engine, 5)
    made = take_snapshot(engine)
    next_id = _add_piece(engine)
    _empty(engine)
    assert all(rows == [] for rows in take_snapshot(engine).rows.values())
    restore_snapshot(engine, made)
    assert take_snapshot(engine).rows == made.rows
    assert _add_piece(engine) == next_id
