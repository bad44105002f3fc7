"""After a dose that is not the series' last: is the next one booked, and which places are free for it
at the centre (for the physician to book it with the person still in the room)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select

from courrier.booking.bookings import Booking, list_bookings
from courrier.booking.policy import booking_policy
from courrier.centres.store import LOCAL
from courrier.db.schema import slots
from courrier.result import Result


@dataclass(frozen=True)
class FreeSlot(Result):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    remaining: int


@dataclass(frozen=True)
class NextDose(Result):
    dose: int
    booking: Booking | None
    earliest: dt.date | None
    latest: dt.date | None


def next_dose(connection: Connection, code_id: int, campaign_id: int, given: int) -> NextDose | None:
    """Dose ``given + 1`` of the code: its active booking if any, and the window it may be booked in
    (dose 2: from the campaign's days after the dose-1 booking); None when the campaign has no more."""
    policy = booking_policy(connection, campaign_id)
    dose = given + 1
    if dose > policy.doses:
        return None
    booked = list_bookings(connection, code_id)
    found = next((b for b in booked if b.dose == dose and b.state == "active"), None)
    first = next((b for b in booked if b.dose == 1 and b.state == "active"), None)
    if first is None:
        return NextDose(dose, found, None, None)
    earliest = (first.starts_at + dt.timedelta(days=policy.dose2_min_days)).astimezone(LOCAL).date()
    latest = (first.starts_at + dt.timedelta(days=policy.dose2_max_days)).astimezone(LOCAL).date()
    return NextDose(dose, found, earliest, latest)


def free_slots_for(
    connection: Connection,
    campaign_id: int,
    centre_id: str,
    nxt: NextDose,
    now: dt.datetime,
    *,
    limit: int = 12,
) -> list[FreeSlot]:
    """The first free places at the centre inside the next dose's window, still to come."""
    if nxt.earliest is None or nxt.latest is None:
        return []
    start = dt.datetime.combine(nxt.earliest, dt.time(), LOCAL)
    end = dt.datetime.combine(nxt.latest + dt.timedelta(days=1), dt.time(), LOCAL)
    rows = connection.execute(
        select(slots.c.id, slots.c.starts_at, slots.c.ends_at, slots.c.capacity, slots.c.taken)
        .where(
            slots.c.campaign_id == campaign_id,
            slots.c.centre_id == centre_id,
            slots.c.starts_at >= max(start, now),
            slots.c.starts_at < end,
            slots.c.taken < slots.c.capacity,
        )
        .order_by(slots.c.starts_at)
        .limit(limit)
    )
    return [FreeSlot(row.id, row.starts_at, row.ends_at, row.capacity - row.taken) for row in rows]
