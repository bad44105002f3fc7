"""Checking a person in at a reception desk: one idempotent transaction keyed by a nonce.

The booking's one check-in is taken by one guarded ``UPDATE bookings SET checked_in_at = :at WHERE id =
:booking AND checked_in_at IS NULL AND state = 'active'`` whose rowcount is checked, in the request's
write transaction; of 50 desks scanning one letter at once, one checks the person in and the others are
told ``already_checked_in`` (when, at which desk). UNIQUE ``checkins (centre_id, nonce)`` makes a retried
scan (a double tap, a request sent again, a queued offline scan uploaded twice) the same check-in, with
the first answer. A walk-in (no booking, where the campaign takes them) is one row per code and dose
(UNIQUE ``checkins (code_id, walk_in_dose)``).

A refusal writes nothing: the same scan later is judged again. Refusals (``Answer.refusal.code``):
``no_booking_today``, ``booked_elsewhere`` (``centre``), ``already_checked_in`` (``at``, ``desk``),
``booking_cancelled``, ``too_early`` (``earliest``), ``too_late`` (``latest``), ``unknown_code``,
``unknown_booking``, ``code_revoked``, ``walk_in_not_allowed``, and what ``reading`` refuses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, select

from courrier.centres.store import LOCAL
from courrier.checkin.policy import checkin_policy, policy_from
from courrier.checkin.reading import Reading, read_scan, read_typed
from courrier.codes.keys import Keys
from courrier.db.prepared import Prepared, PreparedRead
from courrier.db.schema import bookings, checkin_policies, checkins, codes, persons, slots
from courrier.db.transaction import InsertUnlessTaken
from courrier.errors import CodeError, ConflictError, CourrierError, NotFoundError
from courrier.ledger.events import record_event
from courrier.result import Result

MAX_DESK = 32
MAX_NONCE = 64


# Every check-in answers with a Checkin, its booking and its person: their to_json are spelled out,
# since the generic one (result.py: each field's type tested in turn, recursively) cost a check-in a
# twelfth of its CPU. tests/checkin/test_answer_json.py holds them to the generic shape.


@dataclass(frozen=True)
class Person(Result):
    name: str
    birth_date: dt.date

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "birth_date": self.birth_date.isoformat()}


@dataclass(frozen=True)
class BookingView(Result):
    """A booking as the desk sees it; ``state``: active, arrived, done, cancelled or no_show."""

    reference: str
    dose: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    centre: str
    state: str

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "dose": self.dose,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "centre": self.centre,
            "state": self.state,
        }


@dataclass(frozen=True)
class Checkin(Result):
    id: int
    nonce: str
    at: dt.datetime
    desk: str
    by: str
    walk_in: bool
    dose: int
    state: str
    centre: str
    booking: BookingView | None
    person: Person
    campaign_id: int
    code_id: int
    person_id: int
    booking_id: int | None

    def to_json(self) -> dict[str, Any]:
        # The ids behind the person (campaign, code, person, booking) stay in the library: the desk
        # needs what it shows.
        return {
            "id": self.id,
            "nonce": self.nonce,
            "at": self.at.isoformat(),
            "desk": self.desk,
            "by": self.by,
            "walk_in": self.walk_in,
            "dose": self.dose,
            "state": self.state,
            "centre": self.centre,
            "booking": None if self.booking is None else self.booking.to_json(),
            "person": self.person.to_json(),
        }


@dataclass(frozen=True)
class Answer(Result):
    """What the desk is told: ``ok`` (``checkin``), ``ready`` (a preview: who it is, nothing written) or
    ``refused`` (``refusal``, with the booking and the person when they are known)."""

    status: str
    checkin: Checkin | None = None
    refusal: CourrierError | None = None
    booking: BookingView | None = None
    person: Person | None = None
    walk_in_allowed: bool = False
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.status == "ok":
            assert self.checkin is not None
            return {"status": "ok", "checkin": self.checkin.to_json()}
        found: dict[str, Any] = {
            "status": self.status,
            "booking": None if self.booking is None else self.booking.to_json(),
            "person": None if self.person is None else self.person.to_json(),
        }
        if self.refusal is not None:
            found["reason"] = self.refusal.to_json()
            found["walk_in_allowed"] = self.walk_in_allowed
        return found


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(LOCAL).date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The centre's local day as UTC instants ``[start, end)``."""
    start = dt.datetime.combine(day, dt.time(), LOCAL)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), LOCAL)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


_BOOKING = (
    select(
        bookings.c.id,
        bookings.c.reference,
        bookings.c.campaign_id,
        bookings.c.code_id,
        bookings.c.person_id,
        bookings.c.dose,
        bookings.c.state,
        bookings.c.checked_in_at,
        bookings.c.done_at,
        slots.c.starts_at,
        slots.c.ends_at,
        slots.c.centre_id,
        codes.c.status.label("code_status"),
        persons.c.given_names,
        persons.c.family_name,
        persons.c.birth_date,
        # The campaign's check-in policy in the same read (NULL without a row: policy_from).
        checkin_policies.c.early_minutes,
        checkin_policies.c.late_minutes,
        checkin_policies.c.walk_ins,
    )
    .join(slots, slots.c.id == bookings.c.slot_id)
    .join(codes, codes.c.id == bookings.c.code_id)
    .join(persons, persons.c.id == bookings.c.person_id)
    .outerjoin(checkin_policies, checkin_policies.c.campaign_id == bookings.c.campaign_id)
)
_BY_REFERENCE = _BOOKING.where(bookings.c.reference == bindparam("reference"))
_BY_CODE_ON_DAY = _BOOKING.where(
    bookings.c.code_id == bindparam("code_id"),
    slots.c.starts_at >= bindparam("day_start"),
    slots.c.starts_at < bindparam("day_end"),
).order_by(bookings.c.id)
_CODE = (
    select(
        codes.c.id,
        codes.c.campaign_id,
        codes.c.person_id,
        codes.c.status,
        persons.c.given_names,
        persons.c.family_name,
        persons.c.birth_date,
    )
    .join(persons, persons.c.id == codes.c.person_id)
    .where(codes.c.id == bindparam("code_id"))
)
_CHECKIN = (
    select(
        checkins,
        bookings.c.reference,
        slots.c.starts_at,
        slots.c.ends_at,
        slots.c.centre_id.label("slot_centre"),
    )
    .outerjoin(bookings, bookings.c.id == checkins.c.booking_id)
    .outerjoin(slots, slots.c.id == bookings.c.slot_id)
)
_BY_NONCE = _CHECKIN.where(
    checkins.c.centre_id == bindparam("centre"), checkins.c.nonce == bindparam("nonce")
)
# The booking and whether this desk's nonce has a check-in already (its id, else NULL), in one read:
# the desks' usual scan, so sent through the driver (db.prepared: SQLAlchemy's cache key of this join,
# execution context and result were a ninth of a check-in's instructions on SQLite).
_BY_REFERENCE_AND_NONCE = PreparedRead(
    _BY_REFERENCE.add_columns(
        select(checkins.c.id)
        .where(checkins.c.centre_id == bindparam("centre"), checkins.c.nonce == bindparam("nonce"))
        .scalar_subquery()
        .label("first_checkin")
    )
)
_TAKE = Prepared(
    bookings.update()
    .where(
        bookings.c.id == bindparam("booking"),
        bookings.c.checked_in_at.is_(None),
        bookings.c.state == "active",
    )
    .values(checked_in_at=bindparam("at"), updated_at=bindparam("now"))
)
# A twin's nonce (UNIQUE centre and nonce) or a walk-in's dose checked in already (UNIQUE code and
# walk-in dose): no row, and the transaction goes on to say so.
_INSERT = InsertUnlessTaken(checkins)


def booking_state(state: str, checked_in_at: dt.datetime | None, done_at: dt.datetime | None) -> str:
    if state != "active":
        return state
    if done_at is not None:
        return "done"
    return "arrived" if checked_in_at is not None else "active"


def _person(row: Any) -> Person:
    return Person(f"{row.given_names} {row.family_name}", row.birth_date)


def _view(row: Any) -> BookingView:
    return BookingView(
        row.reference,
        row.dose,
        row.starts_at,
        row.ends_at,
        row.centre_id,
        booking_state(row.state, row.checked_in_at, row.done_at),
    )


def checkin_from_row(connection: Connection, row: Row[Any]) -> Checkin:
    booking = None
    if row.booking_id is not None:
        found = connection.execute(_BOOKING.where(bookings.c.id == row.booking_id)).one()
        booking = _view(found)
    person = connection.execute(
        select(persons.c.given_names, persons.c.family_name, persons.c.birth_date).where(
            persons.c.id == row.person_id
        )
    ).one()
    return Checkin(
        id=row.id,
        nonce=row.nonce,
        at=row.checked_in_at,
        desk=row.desk,
        by=row.checked_in_by,
        walk_in=row.walk_in_dose is not None,
        dose=row.dose,
        state=row.state,
        centre=row.centre_id,
        booking=booking,
        person=_person(person),
        campaign_id=row.campaign_id,
        code_id=row.code_id,
        person_id=row.person_id,
        booking_id=row.booking_id,
    )


def _by_nonce(connection: Connection, centre_id: str, nonce: str) -> Checkin | None:
    row = connection.execute(_BY_NONCE, {"centre": centre_id, "nonce": nonce}).one_or_none()
    return None if row is None else checkin_from_row(connection, row)


def get_checkin(connection: Connection, checkin_id: int) -> Checkin:
    row = connection.execute(_CHECKIN.where(checkins.c.id == checkin_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no check-in {checkin_id}", code="unknown_checkin")
    return checkin_from_row(connection, row)


def _already(connection: Connection, booking_id: int | None, code_id: int, dose: int) -> ConflictError:
    """``already_checked_in`` with when and at which desk the first check-in was."""
    where = (
        checkins.c.booking_id == booking_id
        if booking_id is not None
        else and_(checkins.c.code_id == code_id, checkins.c.dose == dose)
    )
    first = connection.execute(
        select(checkins.c.checked_in_at, checkins.c.desk).where(where).order_by(checkins.c.id).limit(1)
    ).one_or_none()
    at = first.checked_in_at.isoformat() if first is not None else ""
    desk = first.desk if first is not None else ""
    time = _local_time(first.checked_in_at) if first is not None else ""
    return ConflictError(
        f"already checked in at {at} at desk {desk}", code="already_checked_in", at=at, time=time, desk=desk
    )


def _local_time(at: dt.datetime) -> str:
    return at.astimezone(LOCAL).strftime("%H:%M")


@dataclass(frozen=True)
class Scan:
    """One scan or typed entry at a desk: ``text`` is a QR's content when ``scanned``, else typed."""

    text: str
    scanned: bool
    nonce: str
    desk: str
    by: str
    walk_in: bool = False


def check_in(
    connection: Connection,
    keys: Keys,
    scan: Scan,
    *,
    centre_id: str,
    at: dt.datetime,
    now: dt.datetime,
    write: bool = True,
    guarded: bool = True,
) -> Answer:
    """Check in the person ``scan`` names at ``centre_id`` as of ``at`` (the scan's time; ``now`` when
    stored), inside the caller's write transaction. With ``write`` False, only say who it is
    (``ready``) or why not. ``guarded`` False is the race tests' control only: it trusts a preview read
    before this transaction ("not checked in yet") and writes without the guard."""
    nonce = scan.nonce[:MAX_NONCE]
    try:
        reading = (
            read_scan(connection, keys, scan.text)
            if scan.scanned
            else read_typed(connection, keys, scan.text)
        )
    except CourrierError as error:
        first = _by_nonce(connection, centre_id, nonce) if write else None
        if first is not None:
            return Answer("ok", checkin=first, replayed=True)
        return Answer("refused", refusal=error)
    # A booking reference's read says whether the nonce was seen (_BY_REFERENCE_AND_NONCE): a round
    # trip fewer for the desks' usual scan, the confirmation letter's QR.
    if write and reading.reference is None:
        first = _by_nonce(connection, centre_id, nonce)
        if first is not None:
            return Answer("ok", checkin=first, replayed=True)
    try:
        return _check_in(connection, reading, scan, nonce, centre_id, at, now, write, guarded)
    except _Refused as refused:
        return refused.answer


class _Refused(Exception):  # noqa: N818 (a way out, not an error)
    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.refusal)
        self.answer = answer


def _refuse(error: CourrierError, row: Any = None, person: Person | None = None, **options: Any) -> _Refused:
    return _Refused(
        Answer(
            "refused",
            refusal=error,
            booking=None if row is None else _view(row),
            person=person if person is not None else (None if row is None else _person(row)),
            **options,
        )
    )


def _check_in(
    connection: Connection,
    reading: Reading,
    scan: Scan,
    nonce: str,
    centre_id: str,
    at: dt.datetime,
    now: dt.datetime,
    write: bool,
    guarded: bool,
) -> Answer:
    day = local_day(at)
    if reading.reference is not None:
        if write:
            row = _BY_REFERENCE_AND_NONCE.one_or_none(
                connection, {"reference": reading.reference, "centre": centre_id, "nonce": nonce}
            )
            seen = row is None or row.first_checkin is not None
            first = _by_nonce(connection, centre_id, nonce) if seen else None
            if first is not None:
                return Answer("ok", checkin=first, replayed=True)
        else:
            row = connection.execute(_BY_REFERENCE, {"reference": reading.reference}).one_or_none()
        if row is None:
            raise _refuse(NotFoundError("no booking with this reference", code="unknown_booking"))
        if row.code_status == "revoked":
            raise _refuse(CodeError("the code is revoked", code="code_revoked"), row)
        if row.state == "cancelled":
            raise _refuse(ConflictError("this booking is cancelled", code="booking_cancelled"), row)
        if row.centre_id != centre_id and local_day(row.starts_at) == day:
            raise _refuse(_elsewhere(row.centre_id), row)
        if local_day(row.starts_at) != day or row.centre_id != centre_id:
            raise _refuse(_no_booking(local_day(row.starts_at)), row)
        return _booked(connection, row, scan, nonce, centre_id, at, now, write, guarded)
    start, end = day_bounds(day)
    code_id = reading.code_id
    if code_id is None:
        code_id, found = _code_for_today(connection, reading.code_ids, centre_id, start, end)
    else:
        found = _on_day(connection, code_id, start, end)
    code = connection.execute(_CODE, {"code_id": code_id}).one()
    person = _person(code)
    if code.status == "revoked":
        raise _refuse(CodeError("the code is revoked", code="code_revoked"), person=person)
    here = [row for row in found if row.centre_id == centre_id]
    active = [row for row in here if row.state == "active"]
    if active:
        return _booked(connection, active[0], scan, nonce, centre_id, at, now, write, guarded)
    elsewhere = [row for row in found if row.state == "active"]
    if elsewhere:
        raise _refuse(_elsewhere(elsewhere[0].centre_id), elsewhere[0])
    if here and here[-1].state == "cancelled":
        raise _refuse(ConflictError("this booking is cancelled", code="booking_cancelled"), here[-1])
    return _walk_in(connection, code, person, scan, nonce, centre_id, at, now, write)


def _on_day(connection: Connection, code_id: int, start: dt.datetime, end: dt.datetime) -> list[Any]:
    return list(connection.execute(_BY_CODE_ON_DAY, {"code_id": code_id, "day_start": start, "day_end": end}))


def _code_for_today(
    connection: Connection, code_ids: tuple[int, ...], centre_id: str, start: dt.datetime, end: dt.datetime
) -> tuple[int, list[Any]]:
    """Of a person's codes (typed by national id, newest campaign first), the one this desk means: the
    one booked today here, else booked today elsewhere (to say where), else the newest whose campaign
    takes walk-ins, else the newest (to say there is no booking)."""
    days = {code_id: _on_day(connection, code_id, start, end) for code_id in code_ids}
    booked = [(code_id, rows) for code_id, rows in days.items() if any(row.state == "active" for row in rows)]
    for code_id, rows in booked:
        if any(row.state == "active" and row.centre_id == centre_id for row in rows):
            return code_id, rows
    if booked:
        return booked[0]
    for code_id in code_ids:
        campaign = connection.execute(select(codes.c.campaign_id).where(codes.c.id == code_id)).scalar_one()
        if checkin_policy(connection, campaign).walk_ins:
            return code_id, days[code_id]
    return code_ids[0], days[code_ids[0]]


def _elsewhere(centre: str) -> ConflictError:
    return ConflictError(f"booked today at centre {centre}", code="booked_elsewhere", centre=centre)


def _no_booking(day: dt.date | None = None) -> NotFoundError:
    return NotFoundError(
        "no booking today at this centre", code="no_booking_today", **({"date": day} if day else {})
    )


def _booked(
    connection: Connection,
    row: Any,
    scan: Scan,
    nonce: str,
    centre_id: str,
    at: dt.datetime,
    now: dt.datetime,
    write: bool,
    guarded: bool,
) -> Answer:
    if row.checked_in_at is not None and guarded:
        # Our own twin (the same nonce) may have committed between our nonce lookup and this read.
        twin = _by_nonce(connection, centre_id, nonce) if write else None
        if twin is not None:
            return Answer("ok", checkin=twin, replayed=True)
        raise _refuse(_already(connection, row.id, row.code_id, row.dose), row)
    policy = policy_from(row)
    if row.state == "no_show":
        latest = row.ends_at + dt.timedelta(minutes=policy.late_minutes)
        raise _refuse(
            ConflictError("too late", code="too_late", latest=latest.isoformat(), time=_local_time(latest)),
            row,
        )
    earliest = row.starts_at - dt.timedelta(minutes=policy.early_minutes)
    latest = row.ends_at + dt.timedelta(minutes=policy.late_minutes)
    if at < earliest:
        raise _refuse(
            ConflictError(
                "too early", code="too_early", earliest=earliest.isoformat(), time=_local_time(earliest)
            ),
            row,
        )
    if at > latest:
        raise _refuse(
            ConflictError("too late", code="too_late", latest=latest.isoformat(), time=_local_time(latest)),
            row,
        )
    if not write:
        return Answer("ready", booking=_view(row), person=_person(row))
    if guarded:
        taken = _TAKE.rowcount(connection, {"booking": row.id, "at": at, "now": now})
    else:
        taken = connection.execute(
            bookings.update().where(bookings.c.id == row.id).values(checked_in_at=at, updated_at=now)
        ).rowcount
    if taken != 1:
        # Another desk won meanwhile; or our own twin with the same nonce, answered as it was answered.
        twin = _by_nonce(connection, centre_id, nonce)
        if twin is not None:
            return Answer("ok", checkin=twin, replayed=True)
        raise _refuse(_already(connection, row.id, row.code_id, row.dose), row)
    return _insert(
        connection,
        scan,
        nonce,
        centre_id,
        at,
        now,
        row.campaign_id,
        row.code_id,
        row.person_id,
        row.dose,
        row.id,
        person=_person(row),
        row=row,
    )


def _walk_in(
    connection: Connection,
    code: Any,
    person: Person,
    scan: Scan,
    nonce: str,
    centre_id: str,
    at: dt.datetime,
    now: dt.datetime,
    write: bool,
) -> Answer:
    policy = checkin_policy(connection, code.campaign_id)
    if not policy.walk_ins:
        raise _refuse(_no_booking(), person=person)
    if not scan.walk_in:
        raise _refuse(_no_booking(), person=person, walk_in_allowed=True)
    # The next dose: one more than the doses this code was checked in for.
    done = connection.execute(
        select(func.coalesce(func.max(checkins.c.dose), 0)).where(checkins.c.code_id == code.id)
    ).scalar_one()
    dose = int(done) + 1
    start, end = day_bounds(local_day(at))
    today = connection.execute(
        select(checkins.c.id).where(
            checkins.c.code_id == code.id, checkins.c.checked_in_at >= start, checkins.c.checked_in_at < end
        )
    ).first()
    if today is not None:
        twin = _by_nonce(connection, centre_id, nonce) if write else None
        if twin is not None:
            return Answer("ok", checkin=twin, replayed=True)
        raise _refuse(_already(connection, None, code.id, dose - 1), person=person)
    if not write:
        return Answer("ready", person=person, walk_in_allowed=True)
    return _insert(
        connection,
        scan,
        nonce,
        centre_id,
        at,
        now,
        code.campaign_id,
        code.id,
        code.person_id,
        dose,
        None,
        person=person,
    )


def _insert(
    connection: Connection,
    scan: Scan,
    nonce: str,
    centre_id: str,
    at: dt.datetime,
    now: dt.datetime,
    campaign_id: int,
    code_id: int,
    person_id: int,
    dose: int,
    booking_id: int | None,
    *,
    person: Person,
    row: Any = None,
) -> Answer:
    desk = scan.desk[:MAX_DESK] or scan.by[:MAX_DESK]
    checkin_id = _INSERT(
        connection,
        {
            "nonce": nonce,
            "centre_id": centre_id,
            "booking_id": booking_id,
            "campaign_id": campaign_id,
            "code_id": code_id,
            "person_id": person_id,
            "dose": dose,
            "walk_in_dose": dose if booking_id is None else None,
            "state": "arrived",
            "desk": desk,
            "checked_in_by": scan.by[:64],
            "checked_in_at": at,
            "created_at": now,
        },
    )
    if checkin_id is None:
        twin = _by_nonce(connection, centre_id, nonce)
        if twin is not None:
            return Answer("ok", checkin=twin, replayed=True)
        if booking_id is None:
            raise _refuse(_already(connection, None, code_id, dose))
        raise ConflictError("this nonce was used for another check-in", code="nonce_reused")
    # The answer is made of what was read and written: no second read of the new check-in.
    found = Checkin(
        id=checkin_id,
        nonce=nonce,
        at=at,
        desk=desk,
        by=scan.by[:64],
        walk_in=booking_id is None,
        dose=dose,
        state="arrived",
        centre=centre_id,
        booking=None if row is None else replace(_view(row), state="arrived"),
        person=person,
        campaign_id=campaign_id,
        code_id=code_id,
        person_id=person_id,
        booking_id=booking_id,
    )
    record_event(
        connection,
        "checkin.recorded",
        f"reception:{scan.by}",
        campaign_id=campaign_id,
        code_id=code_id,
        details={
            "checkin": checkin_id,
            "booking": found.booking.reference if found.booking else None,
            "centre": centre_id,
            "desk": desk,
            "dose": dose,
            "walk_in": booking_id is None,
            "nonce": nonce,
            "at": at,
        },
        at=now,
    )
    return Answer("ok", checkin=found)
