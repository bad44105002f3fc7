"""People's requests, anonymous and throttled ("I did not get my letter", the waiting list), and the
print shop's view and decisions (operator, audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.booking.requests import approve_request, list_requests, reject_request, submit_request
from courrier.db.transaction import write_transaction
from courrier.web.auth import client_address, context, staff_with_role
from courrier.web.inputs import Body, IdPath

router = APIRouter(prefix="/api/v1", tags=["requests"])
Operator = Annotated[StaffSession, Depends(staff_with_role("operator"))]
RECEIVED = {"status": "received"}


class PersonRequest(Body):
    campaign: str = Field(max_length=100)
    matricule: str = Field(max_length=20)
    birth_date: dt.date
    postcode: str = Field(max_length=16)


class Decision(Body):
    same_code: bool | None = None
    reason: str | None = Field(default=None, max_length=500)


def _submit(kind: str, body: PersonRequest, request: Request) -> dict[str, str]:
    ctx = context(request)
    submit_request(
        ctx.engine,
        kind,
        body.campaign,
        body.matricule,
        body.birth_date,
        body.postcode,
        client=client_address(request),
        now=ctx.clock(),
    )
    return RECEIVED


@router.post("/requests", status_code=202)
def letter_again(body: PersonRequest, request: Request) -> dict[str, str]:
    """ "I did not get my letter / I lost it": queued for the print shop. The answer is the same whether
    or not the matricule is in the register."""
    return _submit("resend", body, request)


@router.post("/waiting-list", status_code=202)
def waiting_list(body: PersonRequest, request: Request) -> dict[str, str]:
    """ "I missed my phase": put into a later wave by the next plan. The same answer whoever asks."""
    return _submit("waiting_list", body, request)


@router.get("/staff/requests")
def staff_requests(
    request: Request, session: Operator, kind: str | None = None, state: str | None = None
) -> dict[str, Any]:
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        found = list_requests(connection, kind=kind, state=state)
        audit(
            connection,
            session.user,
            "requests.viewed",
            "requests",
            now=ctx.clock(),
            details={"count": len(found)},
        )
    return {"requests": [item.to_json() for item in found]}


@router.post("/staff/requests/{request_id}/approve")
def approve(request_id: IdPath, body: Decision, request: Request, session: Operator) -> dict[str, Any]:
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        done = approve_request(
            connection,
            request_id,
            keys=ctx.keys,
            actor=f"staff:{session.user.username}",
            now=ctx.clock(),
            same_code=body.same_code,
        )
        audit(connection, session.user, "request.approved", f"request:{request_id}", now=ctx.clock())
    return done.to_json()


@router.post("/staff/requests/{request_id}/reject")
def reject(request_id: IdPath, body: Decision, request: Request, session: Operator) -> dict[str, Any]:
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        done = reject_request(
            connection,
            request_id,
            reason=body.reason or "rejected",
            actor=f"staff:{session.user.username}",
            now=ctx.clock(),
        )
        audit(connection, session.user, "request.rejected", f"request:{request_id}", now=ctx.clock())
    return done.to_json()
