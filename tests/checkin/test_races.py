"""One letter scanned at 50 desks at once, on real concurrent connections: one check-in; and the
control with the guard off, which checks the person in many times."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from courrier.checkin.desk import Answer, Scan, check_in
from courrier.db import make_engine
from courrier.db.schema import checkins
from courrier.db.transaction import write_transaction

from ..conftest import HANG_S
from .conftest import CENTRE

DESKS = 50


def _race(db_url, keys, desk, nonces: list[str], *, guarded: bool = True) -> list[Answer]:
    engine = make_engine(db_url)
    engine.pool._pool.maxsize = DESKS + 5  # type: ignore[attr-defined]
    start = threading.Barrier(len(nonces), timeout=HANG_S)
    # The control: every desk reads "not checked in yet" (a preview) before any of them writes.
    checked = threading.Barrier(len(nonces), timeout=HANG_S)

    def one(index: int) -> Answer:
        scan = Scan(desk.letter(), True, nonces[index], f"desk-{index}", "reception1")
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait()
        if not guarded:
            with engine.connect() as connection:
                seen = check_in(
                    connection, keys, scan, centre_id=CENTRE, at=desk.at, now=desk.at, write=False
                )
            assert seen.status == "ready"
            with contextlib.suppress(threading.BrokenBarrierError):
                checked.wait()
        with write_transaction(engine) as connection:
            return check_in(
                connection, keys, scan, centre_id=CENTRE, at=desk.at, now=desk.at, guarded=guarded
            )

    try:
        with ThreadPoolExecutor(max_workers=len(nonces)) as pool:
            return list(pool.map(one, range(len(nonces))))
    finally:
        engine.dispose()


def _checkins(engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(checkins)).scalar_one())


def test_one_letter_at_50_desks_at_once_is_one_check_in(engine, db_url, keys, make_desk):
    desk = make_desk(people=1)
    answers = _race(db_url, keys, desk, [f"desk-nonce-{n}" for n in range(DESKS)])
    assert [a.status for a in answers].count("ok") == 1
    assert {a.refusal.code for a in answers if a.status == "refused"} == {"already_checked_in"}
    assert _checkins(engine) == 1


def test_one_nonce_sent_50_times_at_once_is_one_check_in_with_one_answer(engine, db_url, keys, make_desk):
    desk = make_desk(people=1)
    answers = _race(db_url, keys, desk, ["same-tap"] * DESKS)
    assert {a.status for a in answers} == {"ok"}
    assert len({a.checkin.id for a in answers}) == 1
    assert _checkins(engine) == 1


def test_control_without_the_guard_one_letter_is_checked_in_many_times(engine, db_url, keys, make_desk):
    desk = make_desk(people=1)
    answers = _race(db_url, keys, desk, [f"desk-nonce-{n}" for n in range(DESKS)], guarded=False)
    granted = [a.status for a in answers].count("ok")
    assert granted > 1
    assert _checkins(engine) == granted
