"""A vaccination campaign with bookings at a centre, and the desk's helpers."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, select

from courrier.accounts.sessions import open_session
from courrier.accounts.users import get_user
from courrier.booking.bookings import Booking, book_dose
from courrier.booking.confirmation import reception_payload
from courrier.checkin.desk import Answer, Scan, check_in
from courrier.codes.keys import Keys
from courrier.db.schema import slots, staff_users
from courrier.db.transaction import write_transaction

from ..web.conftest import (
    NOW,
    SLOT_DAY,
    client,
    clock,
    first_slot,
    keys,
    make_client,
    make_definition,
    make_world,
    password_hash,
    staff_tokens,
    template_dir,
)

__all__ = [
    "client",
    "clock",
    "keys",
    "make_client",
    "make_definition",
    "make_world",
    "password_hash",
    "staff_tokens",
    "template_dir",
]

CENTRE = "LUX-VH"
OTHER = "ESCH-HALL"
_nonces = itertools.count(1)


def nonce() -> str:
    return f"n-{next(_nonces)}"


@dataclass(frozen=True)
class Desk:
    """Bookings of dose 1 in the first slot at LUX-VH on SLOT_DAY, one per code; ``at`` is that slot's
    start."""

    engine: Engine
    keys: Keys
    codes: list[tuple[int, str]]
    bookings: list[Booking]
    campaign_id: int
    slot: int
    at: dt.datetime

    def scan(
        self, text: str, *, scanned: bool = True, at: dt.datetime | None = None, **options: object
    ) -> Answer:
        return run(self.engine, self.keys, text, scanned=scanned, at=at or self.at, **options)

    def letter(self, index: int = 0) -> str:
        return reception_payload(self.bookings[index].reference)


def run(
    engine: Engine,
    keys: Keys,
    text: str,
    *,
    scanned: bool = True,
    at: dt.datetime,
    nonce_: str | None = None,
    desk: str = "desk-1",
    centre: str = CENTRE,
    walk_in: bool = False,
    write: bool = True,
) -> Answer:
    with write_transaction(engine) as connection:
        return check_in(
            connection,
            keys,
            Scan(text, scanned, nonce_ or nonce(), desk, "reception1", walk_in),
            centre_id=centre,
            at=at,
            now=at,
            write=write,
        )


@pytest.fixture
def make_desk(engine: Engine, keys: Keys, make_world: Callable[..., object]) -> Callable[..., Desk]:
    def make(people: int = 3, booked: int | None = None, campaign_extra: str = "") -> Desk:
        world = make_world(people, campaign_extra)
        slot = first_slot(engine, world.campaign_id, CENTRE)  # type: ignore[attr-defined]
        made = [
            book_dose(engine, code_id, slot, 1, booked_by="t", now=NOW)[0]
            for code_id, _code in world.codes[: people if booked is None else booked]  # type: ignore[attr-defined]
        ]
        with engine.connect() as connection:
            starts = connection.execute(select(slots.c.starts_at).where(slots.c.id == slot)).scalar_one()
        return Desk(engine, keys, world.codes, made, world.campaign_id, slot, starts)  # type: ignore[attr-defined]

    return make


class Accounts:
    """Staff sessions opened at the clock's time (a session lasts 10 hours): ``accounts[name]`` is
    ``(token, csrf token)``."""

    def __init__(self, engine, clock) -> None:
        self.engine, self.clock, self.opened = engine, clock, {}

    def __getitem__(self, name: str) -> tuple[str, str]:
        key = (name, self.clock.now.date())
        if key not in self.opened:
            with write_transaction(self.engine) as connection:
                session = open_session(connection, get_user(connection, name), now=self.clock.now)
            self.opened[key] = (session.token, session.csrf_token)
        return self.opened[key]


@pytest.fixture
def accounts(engine, password_hash, clock):
    """A reception and a physician account at LUX-VH, a reception at ESCH-HALL, an admin."""
    with write_transaction(engine) as connection:
        for name, role, centre in [
            ("desk-lux", "reception", CENTRE),
            ("doc-lux", "physician", CENTRE),
            ("desk-esch", "reception", OTHER),
            ("boss", "admin", None),
        ]:
            connection.execute(
                staff_users.insert().values(
                    username=name,
                    password_hash=password_hash,
                    role=role,
                    centre_id=centre,
                    disabled=False,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    return Accounts(engine, clock)


assert SLOT_DAY
