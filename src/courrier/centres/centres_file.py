"""The centres file: TOML, one ``[[centres]]`` table per centre.

::

    [[centres]]
    id = "LUX-VH"                      # 1-32 letters, digits, dashes
    name = "Centre de vaccination Victor Hugo"
    address = "Avenue Victor Hugo 1, L-1750 Luxembourg"
    commune = "Luxembourg"             # a commune of the register (nearest-centre ordering)
    slot_minutes = 10                  # length of one slot
    people_per_slot = 16               # places per slot
    closed_days = [2021-02-15]         # days without slots (public holidays)
    [centres.hours]                    # opening hours per weekday, local time; a day left out is closed
    mon = ["08:00-12:00", "13:00-19:00"]

Every problem is reported with the centre and the key that is wrong.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from courrier.errors import InputFileError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ID = re.compile(r"^[A-Za-z0-9-]{1,32}$")
_SPAN = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")
_KEYS = {"id", "name", "address", "commune", "slot_minutes", "people_per_slot", "closed_days", "hours"}


@dataclass(frozen=True)
class Centre:
    id: str
    name: str
    address: str
    commune: str
    slot_minutes: int
    people_per_slot: int
    hours: dict[str, list[tuple[dt.time, dt.time]]]
    closed_days: tuple[dt.date, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "address": self.address,
            "commune": self.commune,
            "slot_minutes": self.slot_minutes,
            "people_per_slot": self.people_per_slot,
            "hours": {day: [f"{a:%H:%M}-{b:%H:%M}" for a, b in spans] for day, spans in self.hours.items()},
            "closed_days": [day.isoformat() for day in self.closed_days],
        }

    def weekly_capacity(self) -> int:
        minutes = sum(
            (b.hour * 60 + b.minute - a.hour * 60 - a.minute) // self.slot_minutes
            for spans in self.hours.values()
            for a, b in spans
        )
        return minutes * self.people_per_slot


def _bad(where: str, problem: str) -> InputFileError:
    return InputFileError(f"{where}: {problem}", code="bad_centres_file")


def _text(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(where, f"{key}: expected a non-empty text")
    return value.strip()


def _positive(table: dict[str, Any], key: str, where: str, most: int) -> int:
    value = table.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
        raise _bad(where, f"{key}: expected a whole number from 1 to {most}, got {value!r}")
    return value


def parse_hours(table: Any, where: str) -> dict[str, list[tuple[dt.time, dt.time]]]:
    if not isinstance(table, dict):
        raise _bad(where, 'hours: expected a table of weekdays (mon = ["08:00-12:00"])')
    hours: dict[str, list[tuple[dt.time, dt.time]]] = {}
    for day, spans in table.items():
        if day not in WEEKDAYS:
            raise _bad(where, f"hours: unknown weekday {day!r} (expected one of {', '.join(WEEKDAYS)})")
        if not isinstance(spans, list):
            raise _bad(where, f'hours.{day}: expected a list like ["08:00-12:00"]')
        parsed: list[tuple[dt.time, dt.time]] = []
        for span in spans:
            match = _SPAN.match(span) if isinstance(span, str) else None
            try:
                if match is None:
                    raise ValueError
                h1, m1, h2, m2 = (int(part) for part in match.groups())
                start, end = dt.time(h1, m1), dt.time(h2, m2)
            except ValueError:
                raise _bad(where, f"hours.{day}: {span!r} is not HH:MM-HH:MM") from None
            if end <= start or (parsed and start < parsed[-1][1]):
                raise _bad(where, f"hours.{day}: {span!r} ends before it starts or overlaps the one before")
            parsed.append((start, end))
        hours[day] = parsed
    return hours


def parse_centres(text: str, where: str = "centres file") -> list[Centre]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _bad(where, f"not TOML: {error}") from None
    tables = document.get("centres")
    if not isinstance(tables, list) or not tables:
        raise _bad(where, "expected one [[centres]] table per centre")
    found: list[Centre] = []
    seen: set[str] = set()
    for number, table in enumerate(tables, start=1):
        place = f"{where}, centre {number}"
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise _bad(place, f"unknown key {unknown[0]!r} (expected some of {sorted(_KEYS)})")
        centre_id = table.get("id")
        if not isinstance(centre_id, str) or not _ID.match(centre_id):
            raise _bad(place, f"id: expected 1-32 letters, digits or dashes, got {centre_id!r}")
        place = f"{where}, centre {centre_id}"
        if centre_id in seen:
            raise _bad(place, "id: given twice")
        seen.add(centre_id)
        closed = table.get("closed_days", [])
        if not isinstance(closed, list) or not all(
            isinstance(day, dt.date) and not isinstance(day, dt.datetime) for day in closed
        ):
            raise _bad(place, "closed_days: expected a list of dates like [2021-02-15]")
        found.append(
            Centre(
                id=centre_id,
                name=_text(table, "name", place),
                address=_text(table, "address", place),
                commune=_text(table, "commune", place),
                slot_minutes=_positive(table, "slot_minutes", place, 240),
                people_per_slot=_positive(table, "people_per_slot", place, 1000),
                hours=parse_hours(table.get("hours"), place),
                closed_days=tuple(sorted(closed)),
            )
        )
    return found


def read_centres(path: Path) -> list[Centre]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(f"cannot read {path}: {error}", code="unreadable_file") from None
    return parse_centres(text, str(path))
