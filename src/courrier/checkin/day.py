"""A centre's day: who is expected, who arrived, who was vaccinated, who did not come; releasing the
places of those who did not come; and the list an offline desk keeps.

A booking is a **no-show** once its slot ended more than the campaign's late tolerance ago without a
check-in. :func:`release_no_shows` ends such bookings (state ``no_show``, so the person may book again)
and gives their places back, one guarded UPDATE each, with a ``booking.no_show`` event: the day's count
of released places is what the waiting list may be offered.

The offline list holds what a desk needs to check people in while the network is down, and no code:
each booking's personal code only as ``SHA-256(salt ":" compact code)`` (the first 32 hex digits; the
salt is new for each list), the code's id (a signed token names it), the reference, times, dose, name and
birth date, and whether it was checked in when the list was made.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from courrier.checkin.desk import Checkin, booking_state, checkin_from_row, day_bounds
from courrier.checkin.policy import checkin_policy
from courrier.checkin.reading import public_raw
from courrier.codes.keys import Keys
from courrier.codes.sealing import reveal_code
from courrier.db.schema import bookings, campaigns, checkins, codes, persons, slots
from courrier.ledger.events import record_event
from courrier.result import Result

STATUSES = ("expected", "arrived", "done", "no_show", "cancelled")


@dataclass(frozen=True)
class DayEntry(Result):
    reference: str
    dose: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: str
    checked_in_at: dt.datetime | None
    desk: str | None
    checkin: int | None
    name: str
    birth_date: dt.date


@dataclass(frozen=True)
class Day(Result):
    centre: str
    date: dt.date
    counts: dict[str, int]
    bookings: tuple[DayEntry, ...]
    walk_ins: tuple[Checkin, ...]


@dataclass(frozen=True)
class Released(Result):
    centre: str
    date: dt.date
    released: int
    references: tuple[str, ...]


def _day_rows(connection: Connection, centre_id: str, day: dt.date) -> list[Any]:
    start, end = day_bounds(day)
    query = (
        select(
            bookings.c.id,
            bookings.c.reference,
            bookings.c.campaign_id,
            bookings.c.code_id,
            bookings.c.dose,
            bookings.c.state,
            bookings.c.checked_in_at,
            bookings.c.done_at,
            bookings.c.slot_id,
            slots.c.starts_at,
            slots.c.ends_at,
            persons.c.given_names,
            persons.c.family_name,
            persons.c.birth_date,
            checkins.c.id.label("checkin_id"),
            checkins.c.desk,
        )
        .join(slots, slots.c.id == bookings.c.slot_id)
        .join(persons, persons.c.id == bookings.c.person_id)
        .outerjoin(checkins, checkins.c.booking_id == bookings.c.id)
        .where(slots.c.centre_id == centre_id, slots.c.starts_at >= start, slots.c.starts_at < end)
        .order_by(slots.c.starts_at, bookings.c.id)
    )
    return list(connection.execute(query))


def _late_tolerances(connection: Connection, rows: list[Any]) -> dict[int, dt.timedelta]:
    return {
        campaign_id: dt.timedelta(minutes=checkin_policy(connection, campaign_id).late_minutes)
        for campaign_id in {row.campaign_id for row in rows}
    }


def _status(row: Any, late: dt.timedelta, now: dt.datetime) -> str:
    state = booking_state(row.state, row.checked_in_at, row.done_at)
    if state == "active":
        return "no_show" if row.ends_at + late < now else "expected"
    return state


def centre_day(connection: Connection, centre_id: str, day: dt.date, *, now: dt.datetime) -> Day:
    """The bookings of ``centre_id`` on its local ``day`` with their status, and the day's walk-ins."""
    rows = _day_rows(connection, centre_id, day)
    late = _late_tolerances(connection, rows)
    entries = tuple(
        DayEntry(
            reference=row.reference,
            dose=row.dose,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            status=_status(row, late[row.campaign_id], now),
            checked_in_at=row.checked_in_at,
            desk=row.desk,
            checkin=row.checkin_id,
            name=f"{row.given_names} {row.family_name}",
            birth_date=row.birth_date,
        )
        for row in rows
    )
    start, end = day_bounds(day)
    walk_in_rows = connection.execute(
        select(checkins)
        .where(
            checkins.c.centre_id == centre_id,
            checkins.c.booking_id.is_(None),
            checkins.c.checked_in_at >= start,
            checkins.c.checked_in_at < end,
        )
        .order_by(checkins.c.checked_in_at, checkins.c.id)
    )
    walk_ins = tuple(checkin_from_row(connection, row) for row in walk_in_rows)
    counted = Counter(entry.status for entry in entries)
    counts = {status: counted.get(status, 0) for status in STATUSES}
    counts["walk_in"] = len(walk_ins)
    return Day(centre_id, day, counts, entries, walk_ins)


def release_no_shows(
    connection: Connection, centre_id: str, day: dt.date, *, actor: str, now: dt.datetime
) -> Released:
    """End the day's no-show bookings at the centre and give their places back."""
    rows = _day_rows(connection, centre_id, day)
    late = _late_tolerances(connection, rows)
    released = []
    for row in rows:
        if _status(row, late[row.campaign_id], now) != "no_show" or row.state != "active":
            continue
        ended = connection.execute(
            bookings.update()
            .where(bookings.c.id == row.id, bookings.c.state == "active", bookings.c.checked_in_at.is_(None))
            .values(state="no_show", active_dose=None, updated_at=now)
        ).rowcount
        if ended != 1:
            continue  # checked in at the last minute by another desk
        connection.execute(
            slots.update().where(slots.c.id == row.slot_id, slots.c.taken > 0).values(taken=slots.c.taken - 1)
        )
        record_event(
            connection,
            "booking.no_show",
            actor,
            campaign_id=row.campaign_id,
            code_id=row.code_id,
            details={"booking": row.reference, "centre": centre_id, "dose": row.dose, "slot": row.slot_id},
            at=now,
        )
        released.append(row.reference)
    return Released(centre_id, day, len(released), tuple(released))


def code_fingerprint(salt: str, compact_code: str) -> str:
    """What the offline list holds of a personal code: the first 32 hex digits of
    ``SHA-256(salt ":" code)``, the code upper-case without dashes."""
    return hashlib.sha256(f"{salt}:{compact_code}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class OfflineBooking(Result):
    reference: str
    campaign: int
    code_id: int
    code_fingerprint: str
    dose: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    name: str
    birth_date: dt.date
    state: str
    checked_in: dict[str, str] | None


@dataclass(frozen=True)
class OfflineCampaign(Result):
    id: int
    name: str
    signed_qr: bool
    early_minutes: int
    late_minutes: int
    walk_ins: bool


@dataclass(frozen=True)
class OfflineList(Result):
    centre: str
    date: dt.date
    generated_at: dt.datetime
    salt: str
    public_keys: dict[str, str]
    campaigns: tuple[OfflineCampaign, ...]
    bookings: tuple[OfflineBooking, ...]


def offline_list(
    connection: Connection, keys: Keys, centre_id: str, day: dt.date, *, now: dt.datetime
) -> OfflineList:
    """The day's bookings at the centre as an offline desk keeps them (the module's docstring)."""
    rows = _day_rows(connection, centre_id, day)
    salt = base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()
    sealed = {
        row.id: row.ciphertext
        for row in connection.execute(
            select(codes.c.id, codes.c.ciphertext).where(codes.c.id.in_({row.code_id for row in rows}))
        )
    }
    found = []
    for row in rows:
        checked = None
        if row.checked_in_at is not None:
            checked = {"at": row.checked_in_at.isoformat(), "desk": row.desk or ""}
        found.append(
            OfflineBooking(
                reference=row.reference,
                campaign=row.campaign_id,
                code_id=row.code_id,
                code_fingerprint=code_fingerprint(salt, reveal_code(keys, sealed[row.code_id])),
                dose=row.dose,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
                name=f"{row.given_names} {row.family_name}",
                birth_date=row.birth_date,
                state=booking_state(row.state, row.checked_in_at, row.done_at),
                checked_in=checked,
            )
        )
    campaign_rows = connection.execute(
        select(campaigns.c.id, campaigns.c.name, campaigns.c.qr_signed)
        .where(campaigns.c.id.in_({row.campaign_id for row in rows}))
        .order_by(campaigns.c.id)
    )
    offline_campaigns = []
    for campaign in campaign_rows:
        policy = checkin_policy(connection, campaign.id)
        offline_campaigns.append(
            OfflineCampaign(
                campaign.id,
                campaign.name,
                bool(campaign.qr_signed),
                policy.early_minutes,
                policy.late_minutes,
                policy.walk_ins,
            )
        )
    public_keys = {
        str(key_id): base64.b64encode(public_raw(keys, key_id)).decode()
        for key_id in sorted(keys.signing_keys)
    }
    return OfflineList(centre_id, day, now, salt, public_keys, tuple(offline_campaigns), tuple(found))
