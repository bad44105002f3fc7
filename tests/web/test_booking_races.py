"""Races on real concurrent connections: the guard holds, and without it the overbooking shows."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, func, select

from courrier.booking.bookings import book_dose
from courrier.db import make_engine
from courrier.db.schema import bookings, slots
from courrier.errors import ConflictError

from ..conftest import HANG_S
from .conftest import NOW, first_slot

CLIENTS = 200
LAST_PLACES = 10


def _together(parties: int, callers: int) -> Callable[[], None]:
    """A wait for ``callers`` calls that lets them go in groups of ``parties``, each group at once when
    all of it is there; the callers of the last, incomplete group go straight through (the barrier alone
    held them until its timeout)."""
    barrier = threading.Barrier(parties, timeout=HANG_S)
    waiting = callers - callers % parties
    arrivals = itertools.count()
    lock = threading.Lock()

    def wait() -> None:
        with lock:
            arrival = next(arrivals)
        if arrival < waiting:
            barrier.wait()

    return wait


def _leave_places(engine: Engine, slot_id: int, places: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            slots.update().where(slots.c.id == slot_id).values(taken=slots.c.capacity - places)
        )


def _race(db_url: str, calls: list[tuple[int, int, str | None]], **options: object) -> list[object]:
    engine = make_engine(db_url)
    engine.pool._pool.maxsize = 40  # type: ignore[attr-defined]
    start = _together(min(len(calls), 32), len(calls))

    def one(call: tuple[int, int, str | None]) -> object:
        code_id, slot_id, key = call
        start()
        try:
            return book_dose(
                engine, code_id, slot_id, 1, booked_by="t", now=NOW, idempotency_key=key, **options
            )[0]
        except ConflictError as error:
            return error.code

    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            return list(pool.map(one, calls))
    finally:
        engine.dispose()


def _taken(engine: Engine, slot_id: int) -> tuple[int, int, int]:
    with engine.connect() as connection:
        taken, capacity = connection.execute(
            select(slots.c.taken, slots.c.capacity).where(slots.c.id == slot_id)
        ).one()
        booked = connection.execute(
            select(func.count()).select_from(bookings).where(bookings.c.slot_id == slot_id)
        ).scalar_one()
    return taken, capacity, booked


def test_200_clients_for_the_last_10_places_get_exactly_10(engine, db_url, make_world):
    world = make_world(CLIENTS)
    slot = first_slot(engine, world.campaign_id)
    _leave_places(engine, slot, LAST_PLACES)
    results = _race(db_url, [(code_id, slot, None) for code_id, _ in world.codes])
    assert sum(not isinstance(r, str) for r in results) == LAST_PLACES
    assert sorted({r for r in results if isinstance(r, str)}) == ["slot_full"]
    taken, capacity, booked = _taken(engine, slot)
    assert taken == capacity
    assert booked == LAST_PLACES


def test_one_code_booking_twice_at_once_gets_one_booking(engine, db_url, make_world):
    world = make_world(3)
    code_id = world.codes[0][0]
    slot_a = first_slot(engine, world.campaign_id)
    slot_b = first_slot(engine, world.campaign_id, centre="ESCH-HALL")
    results = _race(db_url, [(code_id, slot_a if n % 2 else slot_b, None) for n in range(20)])
    assert sum(not isinstance(r, str) for r in results) == 1
    assert {r for r in results if isinstance(r, str)} == {"already_booked"}
    # The losers' places were given back with their rolled-back transactions.
    assert _taken(engine, slot_a)[0] + _taken(engine, slot_b)[0] == 1


def test_retries_with_one_idempotency_key_at_once_give_one_booking(engine, db_url, make_world):
    world = make_world(3)
    code_id = world.codes[0][0]
    slot = first_slot(engine, world.campaign_id)
    results = _race(db_url, [(code_id, slot, "same-key")] * 20)
    assert len({r.id for r in results if not isinstance(r, str)}) == 1  # type: ignore[attr-defined]
    assert all(not isinstance(r, str) for r in results)
    assert _taken(engine, slot)[0] == 1


def test_control_without_the_guard_the_slot_is_overbooked(engine, db_url, make_world):
    world = make_world(40)
    slot = first_slot(engine, world.campaign_id)
    _leave_places(engine, slot, LAST_PLACES)
    # Every client reads "places left" before any of them writes: what a read-then-write site does.
    pause = _together(32, len(world.codes))
    results = _race(db_url, [(code_id, slot, None) for code_id, _ in world.codes], guarded=False, pause=pause)
    taken, capacity, booked = _taken(engine, slot)
    assert booked > LAST_PLACES
    assert taken > capacity
    assert sum(not isinstance(r, str) for r in results) == booked
