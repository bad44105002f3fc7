"""What every request handler needs, built once per server process."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from courrier.codes.keys import Keys
from courrier.db.types import utcnow

Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class WebContext:
    engine: Engine
    keys: Keys
    clock: Clock = utcnow
    # Cookies get the Secure flag unless the app is served over plain HTTP on purpose (tests, the demo).
    secure_cookies: bool = True
    # Switch for the control test only: with False, bookings check capacity by reading first and write
    # unguarded, which is how a booking site sells one slot twice.
    booking_guard: bool = True
    # The EU DCC folder (COURRIER_DCC_DIR): the trust list and revocation list of /api/v1/dcc/verify.
    dcc_dir: str = "dcc"
    # COURRIER_ALLOW_SHARED_KEY_FILE: the DCC document signer's key may be readable by others.
    allow_shared_key_file: bool = False
    # Switch for the control test only: without the check-in guard (checkin/desk.py), two desks check one
    # person in twice.
    checkin_guard: bool = True
    # What a voucher pays (COURRIER_VOUCHER_VALUE_CENTS) and how long its redemption may be undone.
    voucher_value_cents: int = 5000
    redemption_undo_minutes: int = 15
    # Switch for the control test only: without the redemption guard (vouchers/redemption.py), two
    # establishments are both paid for one voucher.
    redemption_guard: bool = True
