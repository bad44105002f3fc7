"""The centre's API: reception check-in (online and queued offline scans), the day's list, the offline
list, and the physician's vaccination record.

Every route takes a staff session (``Authorization: Bearer TOKEN``, or the pages' ``courrier_staff``
cookie, with which a POST also sends the session's CSRF token in ``X-CSRF-Token``: ``web.auth``). A
reception or physician account sees its own centre only (``forbidden`` otherwise); admin names one.
Every answer that shows a person is audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field, model_validator
from sqlalchemy import Connection, select

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.booking.bookings import list_bookings
from courrier.catalogue import message
from courrier.checkin.day import centre_day, offline_list, release_no_shows
from courrier.checkin.desk import Answer, Scan, check_in, get_checkin, local_day
from courrier.checkin.vaccinations import (
    Dose,
    VaccinationRecord,
    correct_vaccination,
    get_vaccination,
    record_vaccination,
    vaccination_history,
)
from courrier.db.schema import centres
from courrier.db.transaction import write_transaction
from courrier.errors import AccountError, NotFoundError
from courrier.web.auth import context, on_loop_or_thread, staff_with_role
from courrier.web.i18n import request_language
from courrier.web.inputs import Body, Id, IdPath, OptionalDayQuery
from courrier.web.json_body import documented_body, read_json_body, validated
from courrier.web.responses import FastJSONResponse

router = APIRouter(prefix="/api/v1", tags=["centre"])
MAX_BATCH = 500


_reception = staff_with_role("reception")
Reception = Annotated[StaffSession, Depends(_reception)]
Physician = Annotated[StaffSession, Depends(staff_with_role("physician"))]
CentreStaff = Annotated[StaffSession, Depends(staff_with_role("reception", "physician"))]


def staff_centre(connection: Connection, session: StaffSession, requested: str | None) -> str:
    """The centre the caller works at: their account's (another one is ``forbidden``), or for admin the
    one named (``unknown_centre`` if none is)."""
    own = session.user.centre_id
    if own is not None:
        if requested is not None and requested != own:
            raise AccountError("your account is for another centre", code="forbidden")
        return own
    if (
        requested is None
        or connection.execute(select(centres.c.id).where(centres.c.id == requested)).first() is None
    ):
        raise NotFoundError(f"no centre {requested!r}", code="unknown_centre")
    return requested


class CheckinBody(Body):
    scan: str | None = Field(default=None, max_length=2000)
    code: str | None = Field(default=None, max_length=64)
    nonce: str = Field(min_length=1, max_length=64)
    desk: str = Field(default="", max_length=32)
    walk_in: bool = False
    centre: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _one_input(self) -> CheckinBody:
        if (self.scan is None) == (self.code is None):
            raise ValueError('give exactly one of "scan" and "code"')
        return self


class PreviewBody(Body):
    scan: str | None = Field(default=None, max_length=2000)
    code: str | None = Field(default=None, max_length=64)
    centre: str | None = Field(default=None, max_length=32)

    @model_validator(mode="after")
    def _one_input(self) -> PreviewBody:
        if (self.scan is None) == (self.code is None):
            raise ValueError('give exactly one of "scan" and "code"')
        return self


class QueuedScan(Body):
    nonce: str = Field(min_length=1, max_length=64)
    scan: str | None = Field(default=None, max_length=2000)
    code: str | None = Field(default=None, max_length=64)
    scanned_at: dt.datetime | None = None
    walk_in: bool = False

    @model_validator(mode="after")
    def _one_input(self) -> QueuedScan:
        if (self.scan is None) == (self.code is None):
            raise ValueError('give exactly one of "scan" and "code"')
        return self


class BatchBody(Body):
    desk: str = Field(default="", max_length=32)
    centre: str | None = Field(default=None, max_length=32)
    scans: list[QueuedScan] = Field(max_length=MAX_BATCH)


def answer_json(request: Request, answer: Answer) -> dict[str, Any]:
    """The answer, a refusal's message in the request's language."""
    found = answer.to_json()
    if answer.refusal is not None:
        found["reason"]["message"] = message(answer.refusal, request_language(request))
    return found


def _audit_answer(
    connection: Connection, session: StaffSession, answer: Answer, action: str, now: dt.datetime
) -> None:
    shown = answer.checkin.person if answer.checkin is not None else answer.person
    if shown is None:
        return
    reference = answer.checkin.booking if answer.checkin is not None else answer.booking
    details = {"status": answer.status, "booking": reference.reference if reference else None}
    subject = (
        f"checkin:{answer.checkin.id}" if answer.checkin is not None else f"booking:{details['booking']}"
    )
    audit(connection, session.user, action, subject, now=now, details=details)


def _scan(body: CheckinBody | QueuedScan, desk: str, session: StaffSession, nonce: str) -> Scan:
    text = body.scan if body.scan is not None else body.code
    assert text is not None
    return Scan(
        text, body.scan is not None, nonce, desk or session.user.username, session.user.username, body.walk_in
    )


def _apply_scan(
    request: Request, session: StaffSession, centre: str | None, scan: Scan, at: dt.datetime, action: str
) -> Answer:
    """One scan checked in at ``at`` in its own write transaction, audited as ``action``."""
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        centre_id = staff_centre(connection, session, centre)
        answer = check_in(
            connection, ctx.keys, scan, centre_id=centre_id, at=at, now=now, guarded=ctx.checkin_guard
        )
        _audit_answer(connection, session, answer, action, now)
    return answer


def _check_in_now(request: Request, session: StaffSession, body: CheckinBody) -> Answer:
    scan = _scan(body, body.desk, session, body.nonce)
    return _apply_scan(request, session, body.centre, scan, context(request).clock(), "checkin.scanned")


# The check-in reads its body (web.json_body) and its caller (_reception) itself, in the order FastAPI
# would, rather than through a body parameter and a dependency: FastAPI's resolution of the two cost a
# check-in about a twentieth of its instructions. The same answers (tests/checkin/test_checkin_body.py),
# and the body still documented in the OpenAPI spec.
@router.post(
    "/checkins",
    status_code=201,
    response_model=dict[str, Any],
    openapi_extra=documented_body(CheckinBody),
)
async def post_checkin(request: Request) -> Response:
    """Check a person in: 201 ``ok``, or 200 ``refused`` with the reason (a refusal writes nothing). The
    same nonce again answers as the first time (header ``Idempotent-Replayed: true``)."""
    # In FastAPI's order: the body's JSON (refused whoever sends it), who calls, the body's fields.
    raw = await read_json_body(request)
    session = await _reception(request)
    body = validated(CheckinBody, raw)
    answer = await on_loop_or_thread(context(request), _check_in_now, request, session, body)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    status = 201 if answer.status == "ok" else 200
    return FastJSONResponse(answer_json(request, answer), status_code=status, headers=headers)


def _preview(request: Request, session: StaffSession, body: PreviewBody) -> Answer:
    ctx = context(request)
    now = ctx.clock()
    text = body.scan if body.scan is not None else body.code
    assert text is not None
    with write_transaction(ctx.engine) as connection:
        centre = staff_centre(connection, session, body.centre)
        scan = Scan(text, body.scan is not None, "preview", session.user.username, session.user.username)
        answer = check_in(connection, ctx.keys, scan, centre_id=centre, at=now, now=now, write=False)
        _audit_answer(connection, session, answer, "checkin.previewed", now)
    return answer


# Its body and caller read as the check-in's are (above): a desk looks each booking up before it checks
# the person in, so the preview is as busy. Like the check-in it is async (on the event loop for SQLite:
# web.auth.on_loop_or_thread) and answers through FastJSONResponse, not FastAPI's thread pool and its
# serialization of the returned dict (tests/checkin/test_checkin_preview_body.py).
@router.post("/checkins/preview", response_model=dict[str, Any], openapi_extra=documented_body(PreviewBody))
async def preview_checkin(request: Request) -> Response:
    """Who the scan or code names and whether they may be checked in now (``ready``), writing nothing but
    the audit log."""
    # In FastAPI's order: the body's JSON (refused whoever sends it), who calls, the body's fields.
    raw = await read_json_body(request)
    session = await _reception(request)
    body = validated(PreviewBody, raw)
    answer = await on_loop_or_thread(context(request), _preview, request, session, body)
    return FastJSONResponse(answer_json(request, answer))


@router.post("/checkins/batch")
def upload_queued_scans(body: BatchBody, request: Request, session: Reception) -> dict[str, Any]:
    """Queued offline scans, each applied once by its nonce in its own transaction, judged at its
    ``scanned_at`` (not after now, not before the last day). ``conflict``: the booking was checked in
    meanwhile under another nonce (another desk)."""
    ctx = context(request)
    results = []
    for queued in body.scans:
        now = ctx.clock()
        at = min(queued.scanned_at or now, now)
        if at.tzinfo is None or at < now - dt.timedelta(days=1):
            at = now
        scan = _scan(queued, body.desk, session, queued.nonce)
        answer = _apply_scan(request, session, body.centre, scan, at, "checkin.uploaded")
        found = answer_json(request, answer)
        if answer.refusal is not None and answer.refusal.code == "already_checked_in":
            found["status"] = "conflict"
        results.append({"nonce": queued.nonce, **found})
    return {"results": results}


def _day(request: Request, day: dt.date | None) -> dt.date:
    return day or local_day(context(request).clock())


@router.get("/centres/{centre_id}/day")
def day_list(
    centre_id: str, request: Request, session: CentreStaff, date: OptionalDayQuery = None
) -> dict[str, Any]:
    """The centre's day: expected, arrived, done, no-shows, cancelled, walk-ins."""
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        centre = staff_centre(connection, session, centre_id)
        found = centre_day(connection, centre, _day(request, date), now=now)
        audit(
            connection,
            session.user,
            "day.viewed",
            f"centre:{centre}",
            now=now,
            details={"date": found.date.isoformat()},
        )
    return found.to_json()


@router.post("/centres/{centre_id}/day/no-shows")
def release_day_no_shows(
    centre_id: str, request: Request, session: Reception, date: OptionalDayQuery = None
) -> dict[str, Any]:
    """End the day's no-show bookings and give their places back (for the waiting list)."""
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        centre = staff_centre(connection, session, centre_id)
        released = release_no_shows(
            connection, centre, _day(request, date), actor=f"reception:{session.user.username}", now=now
        )
    return released.to_json()


@router.get("/centres/{centre_id}/offline")
def offline_day_list(
    centre_id: str, request: Request, session: Reception, date: OptionalDayQuery = None
) -> dict[str, Any]:
    """What a desk keeps to check people in while the network is down (docs/web.md, Offline)."""
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        centre = staff_centre(connection, session, centre_id)
        found = offline_list(connection, ctx.keys, centre, _day(request, date), now=now)
        audit(
            connection,
            session.user,
            "day.offline_list",
            f"centre:{centre}",
            now=now,
            details={"date": found.date.isoformat()},
        )
    return found.to_json()


class DoseBody(Body):
    product: str = Field(max_length=32)
    manufacturer: str = Field(max_length=32)
    prophylaxis: str = Field(max_length=32)
    lot: str = Field(max_length=64)
    dose_number: int = Field(ge=0, le=99)
    series_doses: int = Field(ge=0, le=99)
    given_at: dt.datetime | None = None
    nonce: str = Field(min_length=1, max_length=64)

    def dose(self) -> Dose:
        return Dose(
            self.product,
            self.manufacturer,
            self.prophylaxis,
            self.lot,
            self.dose_number,
            self.series_doses,
            self.given_at,
        )


class VaccinationBody(DoseBody):
    checkin: Id


class CorrectionBody(DoseBody):
    reason: str = Field(min_length=1, max_length=500)


def next_dose(connection: Connection, record: VaccinationRecord) -> dict[str, Any] | None:
    """After a dose that is not the series' last: whether the next one is booked (and its booking)."""
    if record.dose_number >= record.series_doses:
        return None
    checkin = get_checkin(connection, record.checkin)
    booked = [
        b
        for b in list_bookings(connection, checkin.code_id)
        if b.dose == record.dose_number + 1 and b.state == "active"
    ]
    return {"dose": record.dose_number + 1, "booking": booked[0].to_json() if booked else None}


def _record_answer(connection: Connection, record: VaccinationRecord) -> dict[str, Any]:
    return {"record": record.to_json(), "next_dose": next_dose(connection, record)}


@router.post("/vaccinations", status_code=201)
def post_vaccination(
    body: VaccinationBody, request: Request, response: Response, session: Physician
) -> dict[str, Any]:
    """Record the dose given after a check-in; the check-in and its booking are done. The same nonce
    again answers 200 with the first record."""
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        checkin = get_checkin(connection, body.checkin)
        centre = staff_centre(connection, session, checkin.centre)
        record, created = record_vaccination(
            connection,
            body.checkin,
            body.dose(),
            centre_id=centre,
            physician=session.user.username,
            nonce=body.nonce,
            now=now,
        )
        audit(connection, session.user, "vaccination.recorded", f"vaccination:{record.id}", now=now)
        answer = _record_answer(connection, record)
    if not created:
        response.status_code = 200
    return answer


@router.post("/vaccinations/{record_id}/corrections", status_code=201)
def post_correction(
    record_id: IdPath, body: CorrectionBody, request: Request, response: Response, session: Physician
) -> dict[str, Any]:
    """A new record superseding ``record_id``; the old one is kept (``current`` false)."""
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        old = get_vaccination(connection, record_id)
        centre = staff_centre(connection, session, old.centre)
        record, created = correct_vaccination(
            connection,
            record_id,
            body.dose(),
            centre_id=centre,
            physician=session.user.username,
            nonce=body.nonce,
            reason=body.reason,
            now=now,
        )
        audit(connection, session.user, "vaccination.corrected", f"vaccination:{record.id}", now=now)
        answer = _record_answer(connection, record)
    if not created:
        response.status_code = 200
    return answer


@router.get("/checkins/{checkin_id}/history")
def person_history(checkin_id: IdPath, request: Request, session: CentreStaff) -> dict[str, Any]:
    """The check-in and its person's vaccination records, corrected ones included."""
    ctx = context(request)
    now = ctx.clock()
    with write_transaction(ctx.engine) as connection:
        checkin = get_checkin(connection, checkin_id)
        try:
            staff_centre(connection, session, checkin.centre)
        except AccountError:
            # Another centre's check-in is not theirs to know of.
            raise NotFoundError(f"no check-in {checkin_id}", code="unknown_checkin") from None
        records = vaccination_history(connection, checkin.person_id)
        audit(connection, session.user, "history.viewed", f"checkin:{checkin_id}", now=now)
    return {"checkin": checkin.to_json(), "records": [record.to_json() for record in records]}
