"""The vaccination record: the dose a physician gave, never changed once written.

A record holds the product, manufacturer and prophylaxis (EU DCC value set codes), the lot, the dose
number and the series' length, when it was given, at which centre, by which physician, and the check-in
it follows. Recording the first record of a check-in marks the check-in and its booking done, by one
guarded ``UPDATE checkins SET state = 'done' WHERE id = :checkin AND state = 'arrived'`` (two physicians
recording one person at once: one record, the other told ``already_vaccinated``).

A correction is a new record that ``supersedes`` the old one (UNIQUE: a record is corrected once, so a
person's history is a chain); the old one stays, and both are in the event log
(``vaccination.recorded``, ``vaccination.corrected``). A nonce makes a retried request the same record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.exc import IntegrityError

from courrier.checkin.desk import get_checkin
from courrier.checkin.valuesets import checked_value, display
from courrier.db.schema import bookings, checkins, vaccinations
from courrier.errors import CodeError, ConflictError, NotFoundError
from courrier.ledger.events import record_event
from courrier.result import Result

MAX_LOT = 32
MAX_SERIES = 9
# A physician may record a dose given a little earlier (the record written after the injection), never
# one given in the future.
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Dose:
    """What the physician enters."""

    product: str
    manufacturer: str
    prophylaxis: str
    lot: str
    dose_number: int
    series_doses: int
    given_at: dt.datetime | None = None


@dataclass(frozen=True)
class VaccinationRecord(Result):
    id: int
    checkin: int
    booking: str | None
    centre: str
    product: str
    product_name: str
    manufacturer: str
    manufacturer_name: str
    prophylaxis: str
    prophylaxis_name: str
    lot: str
    dose_number: int
    series_doses: int
    given_at: dt.datetime
    physician: str
    supersedes: int | None
    superseded_by: int | None
    reason: str | None
    recorded_at: dt.datetime
    person_id: int

    @property
    def current(self) -> bool:
        return self.superseded_by is None

    def to_json(self) -> dict[str, Any]:
        found = super().to_json()
        del found["person_id"]
        found["current"] = self.current
        return found


_NEWER = vaccinations.alias("newer")
_RECORDS = (
    select(vaccinations, bookings.c.reference, _NEWER.c.id.label("superseded_by"))
    .outerjoin(bookings, bookings.c.id == vaccinations.c.booking_id)
    .outerjoin(_NEWER, _NEWER.c.supersedes == vaccinations.c.id)
)
_DONE = (
    checkins.update()
    .where(checkins.c.id == bindparam("checkin"), checkins.c.state == "arrived")
    .values(state="done")
)


def _record(row: Any) -> VaccinationRecord:
    return VaccinationRecord(
        id=row.id,
        checkin=row.checkin_id,
        booking=row.reference,
        centre=row.centre_id,
        product=row.product,
        product_name=display("product", row.product),
        manufacturer=row.manufacturer,
        manufacturer_name=display("manufacturer", row.manufacturer),
        prophylaxis=row.prophylaxis,
        prophylaxis_name=display("prophylaxis", row.prophylaxis),
        lot=row.lot,
        dose_number=row.dose_number,
        series_doses=row.series_doses,
        given_at=row.given_at,
        physician=row.physician,
        supersedes=row.supersedes,
        superseded_by=row.superseded_by,
        reason=row.reason,
        recorded_at=row.recorded_at,
        person_id=row.person_id,
    )


def get_vaccination(connection: Connection, record_id: int) -> VaccinationRecord:
    row = connection.execute(_RECORDS.where(vaccinations.c.id == record_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no vaccination record {record_id}", code="unknown_vaccination")
    return _record(row)


def _by_nonce(connection: Connection, nonce: str) -> VaccinationRecord | None:
    row = connection.execute(_RECORDS.where(vaccinations.c.nonce == nonce)).one_or_none()
    return None if row is None else _record(row)


def vaccination_history(connection: Connection, person_id: int) -> list[VaccinationRecord]:
    """Every record of the person, corrected ones included (``superseded_by``), oldest dose first."""
    query = _RECORDS.where(vaccinations.c.person_id == person_id).order_by(
        vaccinations.c.dose_number, vaccinations.c.id
    )
    return [_record(row) for row in connection.execute(query)]


def _checked(dose: Dose, now: dt.datetime, *, correcting: bool = False) -> tuple[Dose, dt.datetime]:
    """The dose with its lot trimmed, and when it was given; a correction may keep an older time."""
    for field in ("product", "manufacturer", "prophylaxis"):
        checked_value(field, getattr(dose, field))
    lot = dose.lot.strip()
    if not 1 <= len(lot) <= MAX_LOT or not lot.isprintable():
        raise CodeError(f"lot: 1 to {MAX_LOT} printable characters", code="bad_vaccination", field="lot")
    if not 1 <= dose.series_doses <= MAX_SERIES:
        raise CodeError(
            f"series: 1 to {MAX_SERIES} doses, got {dose.series_doses}",
            code="bad_vaccination",
            field="series_doses",
        )
    if not 1 <= dose.dose_number <= dose.series_doses:
        raise CodeError(
            f"dose: 1 to {dose.series_doses}, got {dose.dose_number}",
            code="bad_vaccination",
            field="dose_number",
        )
    given_at = dose.given_at or now
    too_old = not correcting and given_at < now - dt.timedelta(days=1)
    if given_at.tzinfo is None or given_at > now + CLOCK_SKEW or too_old:
        raise CodeError(
            "time given: within the last day, not in the future", code="bad_vaccination", field="given_at"
        )
    return replace(dose, lot=lot, given_at=None), given_at


def _insert(
    connection: Connection,
    checkin: Any,
    dose: Dose,
    given_at: dt.datetime,
    *,
    physician: str,
    nonce: str,
    now: dt.datetime,
    supersedes: int | None,
    reason: str | None,
) -> int | None:
    """The new record's id, or None when a twin took the nonce or the record was corrected meanwhile."""
    try:
        with connection.begin_nested():
            inserted = connection.execute(
                vaccinations.insert().values(
                    nonce=nonce,
                    checkin_id=checkin.id,
                    booking_id=checkin.booking_id,
                    campaign_id=checkin.campaign_id,
                    code_id=checkin.code_id,
                    person_id=checkin.person_id,
                    centre_id=checkin.centre,
                    product=dose.product,
                    manufacturer=dose.manufacturer,
                    prophylaxis=dose.prophylaxis,
                    lot=dose.lot,
                    dose_number=dose.dose_number,
                    series_doses=dose.series_doses,
                    given_at=given_at,
                    physician=physician[:64],
                    supersedes=supersedes,
                    reason=reason,
                    recorded_at=now,
                )
            )
    except IntegrityError:
        return None
    assert inserted.inserted_primary_key is not None
    return int(inserted.inserted_primary_key[0])


def _event(
    connection: Connection, type: str, record: VaccinationRecord, checkin: Any, now: dt.datetime
) -> None:
    record_event(
        connection,
        type,
        f"physician:{record.physician}",
        campaign_id=checkin.campaign_id,
        code_id=checkin.code_id,
        reason=record.reason,
        details={
            "record": record.id,
            "supersedes": record.supersedes,
            "checkin": record.checkin,
            "booking": record.booking,
            "centre": record.centre,
            "product": record.product,
            "manufacturer": record.manufacturer,
            "prophylaxis": record.prophylaxis,
            "lot": record.lot,
            "dose_number": record.dose_number,
            "series_doses": record.series_doses,
            "given_at": record.given_at,
        },
        at=now,
    )


def record_vaccination(
    connection: Connection,
    checkin_id: int,
    dose: Dose,
    *,
    centre_id: str,
    physician: str,
    nonce: str,
    now: dt.datetime,
) -> tuple[VaccinationRecord, bool]:
    """Record the dose given after check-in ``checkin_id`` at ``centre_id``; ``(record, created)``
    (``created`` False for a nonce seen before). Marks the check-in and its booking done. Refusals:
    ``unknown_checkin`` (none at this centre), ``already_vaccinated``, ``bad_vaccination`` (``field``),
    ``unknown_vaccine_value`` (``field``)."""
    first = _by_nonce(connection, nonce)
    if first is not None:
        return first, False
    checkin = get_checkin(connection, checkin_id)
    if checkin.centre != centre_id:
        raise NotFoundError(f"no check-in {checkin_id} at this centre", code="unknown_checkin")
    dose, given_at = _checked(dose, now)
    if connection.execute(_DONE, {"checkin": checkin_id}).rowcount != 1:
        twin = _by_nonce(connection, nonce)
        if twin is not None:
            return twin, False
        raise ConflictError("this check-in's dose is recorded already", code="already_vaccinated")
    if checkin.booking_id is not None:
        connection.execute(
            bookings.update()
            .where(bookings.c.id == checkin.booking_id, bookings.c.done_at.is_(None))
            .values(done_at=now, updated_at=now)
        )
    record_id = _insert(
        connection,
        checkin,
        dose,
        given_at,
        physician=physician,
        nonce=nonce,
        now=now,
        supersedes=None,
        reason=None,
    )
    if record_id is None:
        twin = _by_nonce(connection, nonce)
        if twin is not None:
            return twin, False
        raise ConflictError("this nonce was used for another record", code="nonce_reused")
    record = get_vaccination(connection, record_id)
    _event(connection, "vaccination.recorded", record, checkin, now)
    return record, True


def correct_vaccination(
    connection: Connection,
    record_id: int,
    dose: Dose,
    *,
    centre_id: str,
    physician: str,
    nonce: str,
    reason: str,
    now: dt.datetime,
) -> tuple[VaccinationRecord, bool]:
    """A new record superseding ``record_id`` (recorded at ``centre_id``); the old one is kept. Refusals:
    ``unknown_vaccination``, ``already_corrected`` (``superseded_by``: correct the newest one),
    ``bad_vaccination``, ``unknown_vaccine_value``."""
    first = _by_nonce(connection, nonce)
    if first is not None:
        return first, False
    old = get_vaccination(connection, record_id)
    if old.centre != centre_id:
        raise NotFoundError(f"no vaccination record {record_id} at this centre", code="unknown_vaccination")
    if old.superseded_by is not None:
        raise ConflictError(
            f"record {record_id} was corrected by record {old.superseded_by}",
            code="already_corrected",
            superseded_by=old.superseded_by,
        )
    reason = reason.strip()[:500]
    if not reason:
        raise CodeError("a correction says why", code="bad_vaccination", field="reason")
    dose, given_at = _checked(replace(dose, given_at=dose.given_at or old.given_at), now, correcting=True)
    checkin = get_checkin(connection, old.checkin)
    new_id = _insert(
        connection,
        checkin,
        dose,
        given_at,
        physician=physician,
        nonce=nonce,
        now=now,
        supersedes=old.id,
        reason=reason,
    )
    if new_id is None:
        twin = _by_nonce(connection, nonce)
        if twin is not None:
            return twin, False
        newer = get_vaccination(connection, record_id).superseded_by
        raise ConflictError(
            f"record {record_id} was corrected meanwhile", code="already_corrected", superseded_by=newer
        )
    record = get_vaccination(connection, new_id)
    _event(connection, "vaccination.corrected", record, checkin, now)
    return record, True
