"""Centres in the database, and the slots a campaign opens at them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select, text

from courrier.centres.centres_file import WEEKDAYS, Centre, parse_hours
from courrier.db.schema import centres, slots
from courrier.errors import InputFileError, NotFoundError

# Opening hours are local time at the centres.
LOCAL = ZoneInfo("Europe/Luxembourg")


def import_centres(connection: Connection, found: Sequence[Centre], *, now: dt.datetime) -> tuple[int, int]:
    """Insert new centres, update known ones; ``(inserted, updated)``. Slots already opened keep their
    times (open them again for new hours)."""
    inserted = updated = 0
    for centre in found:
        values = {
            "name": centre.name,
            "address": centre.address,
            "commune": centre.commune,
            "slot_minutes": centre.slot_minutes,
            "people_per_slot": centre.people_per_slot,
            "opening_hours": json.dumps(centre.to_json()["hours"], sort_keys=True),
            "closed_days": json.dumps([day.isoformat() for day in centre.closed_days]),
            "updated_at": now,
        }
        changed = connection.execute(
            centres.update().where(centres.c.id == centre.id).values(**values)
        ).rowcount
        if changed:
            updated += 1
        else:
            connection.execute(centres.insert().values(id=centre.id, **values))
            inserted += 1
    return inserted, updated


def _centre(row: Any) -> Centre:
    return Centre(
        id=row.id,
        name=row.name,
        address=row.address,
        commune=row.commune,
        slot_minutes=row.slot_minutes,
        people_per_slot=row.people_per_slot,
        hours=parse_hours(json.loads(row.opening_hours), row.id),
        closed_days=tuple(dt.date.fromisoformat(day) for day in json.loads(row.closed_days)),
    )


def list_centres(connection: Connection) -> list[Centre]:
    return [_centre(row) for row in connection.execute(select(centres).order_by(centres.c.id))]


def get_centre(connection: Connection, centre_id: str) -> Centre:
    row = connection.execute(select(centres).where(centres.c.id == centre_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no centre {centre_id!r}", code="unknown_centre")
    return _centre(row)


def slot_times(centre: Centre, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
    """The (start, end) UTC times of the centre's slots on ``day``."""
    if day in centre.closed_days:
        return []
    times = []
    step = dt.timedelta(minutes=centre.slot_minutes)
    for start, end in centre.hours.get(WEEKDAYS[day.weekday()], []):
        at = dt.datetime.combine(day, start, LOCAL)
        close = dt.datetime.combine(day, end, LOCAL)
        while at + step <= close:
            times.append((at.astimezone(dt.UTC), (at + step).astimezone(dt.UTC)))
            at += step
    return times


def open_slots(
    connection: Connection, campaign_id: int, first: dt.date, last: dt.date, *, centre_ids: Sequence[str] = ()
) -> int:
    """Open every centre's slots for the campaign from ``first`` to ``last``; slots already open are
    kept as they are (with their bookings). Returns the number of new slots."""
    if last < first:
        raise InputFileError(f"--to {last} is before --from {first}", code="bad_date_range")
    if (last - first).days > 366:
        raise InputFileError("open at most a year of slots at once", code="bad_date_range")
    chosen = list_centres(connection)
    if centre_ids:
        chosen = [get_centre(connection, centre_id) for centre_id in centre_ids]
    if not chosen:
        raise NotFoundError("no centres: `courrier centres import FILE` first", code="unknown_centre")
    opened = 0
    for centre in chosen:
        existing = set(
            connection.execute(
                select(slots.c.starts_at).where(
                    slots.c.campaign_id == campaign_id,
                    slots.c.centre_id == centre.id,
                    slots.c.starts_at >= dt.datetime.combine(first, dt.time(), LOCAL),
                )
            ).scalars()
        )
        new: list[tuple[dt.datetime, dt.datetime]] = []
        day = first
        while day <= last:
            new += [(start, end) for start, end in slot_times(centre, day) if start not in existing]
            day += dt.timedelta(days=1)
        _insert_slots(connection, campaign_id, centre, new)
        opened += len(new)
    return opened


# One centre's slots in one statement on PostgreSQL, not an INSERT per slot: the example centres' 7,884
# slots of seven weeks took 0.41-0.48 s row by row, 0.25-0.27 s so (the rest is working out the times).
_INSERT_SLOTS_POSTGRESQL = text(
    "INSERT INTO slots (campaign_id, centre_id, starts_at, ends_at, capacity, taken)"
    " SELECT :campaign_id, :centre_id, starts_at, ends_at, :capacity, 0"
    " FROM unnest(CAST(:starts AS timestamptz[]), CAST(:ends AS timestamptz[])) AS new (starts_at, ends_at)"
)


def _insert_slots(
    connection: Connection, campaign_id: int, centre: Centre, times: list[tuple[dt.datetime, dt.datetime]]
) -> None:
    if not times:
        return
    if connection.dialect.name == "postgresql":
        connection.execute(
            _INSERT_SLOTS_POSTGRESQL,
            {
                "campaign_id": campaign_id,
                "centre_id": centre.id,
                "capacity": centre.people_per_slot,
                "starts": [start for start, _ in times],
                "ends": [end for _, end in times],
            },
        )
        return
    # SQLite has no round trips to save: its time here is formatting the timestamps.
    rows = [
        {
            "campaign_id": campaign_id,
            "centre_id": centre.id,
            "starts_at": start,
            "ends_at": end,
            "capacity": centre.people_per_slot,
            "taken": 0,
        }
        for start, end in times
    ]
    connection.execute(slots.insert(), rows)


@dataclass(frozen=True)
class DayUse:
    centre_id: str
    day: dt.date
    slots: int
    capacity: int
    taken: int

    def to_json(self) -> dict[str, Any]:
        return {
            "centre": self.centre_id,
            "day": self.day.isoformat(),
            "slots": self.slots,
            "capacity": self.capacity,
            "taken": self.taken,
        }


def slot_use(connection: Connection, campaign_id: int) -> list[DayUse]:
    """Capacity and use per centre and local day."""
    totals: dict[tuple[str, dt.date], list[int]] = {}
    query = select(slots.c.centre_id, slots.c.starts_at, slots.c.capacity, slots.c.taken).where(
        slots.c.campaign_id == campaign_id
    )
    for row in connection.execute(query):
        key = (row.centre_id, row.starts_at.astimezone(LOCAL).date())
        total = totals.setdefault(key, [0, 0, 0])
        total[0] += 1
        total[1] += row.capacity
        total[2] += row.taken
    return [DayUse(c, d, *totals[(c, d)]) for c, d in sorted(totals)]


def count_slots(connection: Connection, campaign_id: int) -> int:
    return int(
        connection.execute(
            select(func.count()).select_from(slots).where(slots.c.campaign_id == campaign_id)
        ).scalar_one()
    )
