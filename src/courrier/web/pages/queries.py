"""The few reads the pages need beyond the booking library: who a code belongs to, the centres in the
order a person sees them, the days and times with free places."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from courrier.booking.bookings import Booking, list_bookings
from courrier.booking.nearest import NearCentre, nearest_centres
from courrier.booking.policy import BookingPolicy, booking_policy
from courrier.centres.store import LOCAL
from courrier.db.schema import campaigns, codes, persons, slots
from courrier.ledger.codes import effective_status


@dataclass(frozen=True)
class Holder:
    """A code's holder as the pages show them."""

    code_id: int
    campaign_id: int
    campaign: str
    language: str
    commune: str
    # The code's status today (``ledger.codes.effective_status``): past its validity, the pages offer
    # only what the campaign's policy still allows (``BookingPolicy.may_book``: dose 2 at most).
    code_status: str = "active"


def holder_of(connection: Connection, code_id: int, today: dt.date) -> Holder:
    row = connection.execute(
        select(
            codes.c.id,
            codes.c.campaign_id,
            codes.c.status,
            codes.c.uses,
            codes.c.max_uses,
            codes.c.valid_until,
            campaigns.c.name,
            persons.c.language,
            persons.c.commune,
        )
        .join(campaigns, campaigns.c.id == codes.c.campaign_id)
        .join(persons, persons.c.id == codes.c.person_id)
        .where(codes.c.id == code_id)
    ).one()
    status = effective_status(row.status, row.uses, row.max_uses, row.valid_until, today)
    return Holder(row.id, row.campaign_id, row.name, row.language, row.commune, status)


def centres_for(connection: Connection, commune: str) -> list[NearCentre]:
    """The centres, nearest to the person's commune first (``booking.nearest``)."""
    return nearest_centres(connection, commune)


@dataclass(frozen=True)
class Window:
    """The days a dose may be booked on (both ends included); None: no limit."""

    earliest: dt.date | None = None
    latest: dt.date | None = None

    def holds(self, day: dt.date) -> bool:
        return (self.earliest is None or day >= self.earliest) and (self.latest is None or day <= self.latest)


def dose_window(policy: BookingPolicy, booked: list[Booking], dose: int) -> Window:
    """Dose 2's window from the active dose-1 booking (as ``booking.bookings`` checks it)."""
    if dose != 2:
        return Window()
    first = next((b for b in booked if b.dose == 1 and b.state == "active"), None)
    if first is None:
        return Window()
    return Window(
        (first.starts_at + dt.timedelta(days=policy.dose2_min_days)).date(),
        (first.starts_at + dt.timedelta(days=policy.dose2_max_days)).date(),
    )


def booking_state(connection: Connection, holder: Holder) -> tuple[BookingPolicy, list[Booking]]:
    return booking_policy(connection, holder.campaign_id), list_bookings(connection, holder.code_id)


def free_days(
    connection: Connection, campaign_id: int, centre_id: str, now: dt.datetime, window: Window
) -> list[tuple[dt.date, int]]:
    """The local days with free places at a centre still to come, and how many places each has."""
    query = select(slots.c.starts_at, slots.c.capacity, slots.c.taken).where(
        slots.c.campaign_id == campaign_id,
        slots.c.centre_id == centre_id,
        slots.c.starts_at > now,
        slots.c.taken < slots.c.capacity,
    )
    if window.earliest is not None:
        query = query.where(slots.c.starts_at >= dt.datetime.combine(window.earliest, dt.time(), LOCAL))
    if window.latest is not None:
        end = dt.datetime.combine(window.latest + dt.timedelta(days=1), dt.time(), LOCAL)
        query = query.where(slots.c.starts_at < end)
    days: dict[dt.date, int] = {}
    for row in connection.execute(query):
        day = row.starts_at.astimezone(LOCAL).date()
        days[day] = days.get(day, 0) + row.capacity - row.taken
    return sorted(days.items())


def free_slots(
    connection: Connection, campaign_id: int, centre_id: str, day: dt.date, now: dt.datetime
) -> list[Any]:
    """A centre's slots with free places on a local day, still to come: rows of id, starts_at, ends_at,
    remaining."""
    start = dt.datetime.combine(day, dt.time(), LOCAL)
    return list(
        connection.execute(
            select(
                slots.c.id,
                slots.c.starts_at,
                slots.c.ends_at,
                (slots.c.capacity - slots.c.taken).label("remaining"),
            )
            .where(
                slots.c.campaign_id == campaign_id,
                slots.c.centre_id == centre_id,
                slots.c.starts_at >= start,
                slots.c.starts_at < start + dt.timedelta(days=1),
                slots.c.starts_at > now,
                slots.c.taken < slots.c.capacity,
            )
            .order_by(slots.c.starts_at)
        )
    )
