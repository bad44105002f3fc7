"""One voucher redeemed at two establishments at once, on real concurrent connections: one payment and
one ``already_redeemed``; many establishments and one retried nonce at once; and the control with the
guard off, which pays the voucher twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from courrier.db import make_engine
from courrier.db.schema import redemptions
from courrier.db.transaction import write_transaction
from courrier.vouchers.redemption import Answer, Scan, Stay, preview_voucher, redeem_voucher

from ..conftest import HANG_S
from ..web.conftest import NOW
from .conftest import CAMPSITE, HOTEL

STAY = Stay(NOW.date(), NOW.date() + dt.timedelta(days=1), "BK-1")


def _race(db_url, vouchers, at: list[str], nonces: list[str], *, guarded: bool = True) -> list[Answer]:
    engine = make_engine(db_url)
    engine.pool._pool.maxsize = len(at) + 5  # type: ignore[attr-defined]
    start = threading.Barrier(len(at), timeout=HANG_S)
    # The control: every desk reads "not redeemed yet" (the preview) before any of them writes.
    previewed = threading.Barrier(len(at), timeout=HANG_S)

    def one(index: int) -> Answer:
        scan = Scan(vouchers.qr[0], True, nonces[index], f"desk-{index}")
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait()
        if not guarded:
            with engine.connect() as connection:
                seen = preview_voucher(connection, vouchers.keys, scan, establishment_id=at[index], now=NOW)
            assert seen.status == "ready"
            with contextlib.suppress(threading.BrokenBarrierError):
                previewed.wait()
        with write_transaction(engine) as connection:
            return redeem_voucher(
                connection,
                vouchers.keys,
                scan,
                STAY,
                establishment_id=at[index],
                amount_cents=5000,
                now=NOW,
                guarded=guarded,
            )

    try:
        with ThreadPoolExecutor(max_workers=len(at)) as pool:
            return list(pool.map(one, range(len(at))))
    finally:
        engine.dispose()


def _paid(engine) -> tuple[int, int]:
    """Redemptions standing, and the cents they pay."""
    with engine.connect() as connection:
        row = connection.execute(
            select(func.count(), func.coalesce(func.sum(redemptions.c.amount_cents), 0)).where(
                redemptions.c.undone_at.is_(None)
            )
        ).one()
    return int(row[0]), int(row[1])


def test_one_voucher_at_two_establishments_at_once_is_paid_once(engine, db_url, vouchers):
    answers = _race(db_url, vouchers, [HOTEL, CAMPSITE], ["hotel-tap", "camp-tap"])
    assert sorted(a.status for a in answers) == ["ok", "refused"]
    assert [a.refusal.code for a in answers if a.status == "refused"] == ["already_redeemed"]
    assert _paid(engine) == (1, 5000)


def test_one_voucher_at_30_desks_at_once_is_paid_once(engine, db_url, vouchers):
    desks = 30
    answers = _race(db_url, vouchers, [HOTEL, CAMPSITE] * (desks // 2), [f"tap-{n}" for n in range(desks)])
    assert [a.status for a in answers].count("ok") == 1
    assert {a.refusal.code for a in answers if a.status == "refused"} == {"already_redeemed"}
    assert _paid(engine) == (1, 5000)


def test_one_nonce_sent_20_times_at_once_is_one_redemption_with_one_answer(engine, db_url, vouchers):
    answers = _race(db_url, vouchers, [HOTEL] * 20, ["same-tap"] * 20)
    assert {a.status for a in answers} == {"ok"}
    assert len({a.redemption.id for a in answers}) == 1
    assert _paid(engine) == (1, 5000)


def test_control_without_the_guard_the_voucher_is_paid_twice(engine, db_url, vouchers):
    answers = _race(db_url, vouchers, [HOTEL, CAMPSITE], ["hotel-tap", "camp-tap"], guarded=False)
    assert [a.status for a in answers] == ["ok", "ok"]
    assert _paid(engine) == (2, 10000)
