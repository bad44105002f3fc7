"""Staff sign-in for the API and the centres' systems, and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from courrier.accounts.audit import list_audit
from courrier.accounts.sessions import StaffSession, end_session, open_session
from courrier.accounts.users import authenticate
from courrier.db.transaction import write_transaction
from courrier.errors import CourrierError
from courrier.web.auth import client_address, context, current_staff, staff_with_role
from courrier.web.inputs import Body

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])


class Credentials(Body):
    username: str
    password: str


@router.post("/sessions", status_code=201)
def sign_in(credentials: Credentials, request: Request) -> dict[str, Any]:
    ctx = context(request)
    now = ctx.clock()
    # A wrong password must still count its failure: the transaction commits before the error is raised.
    failure: CourrierError | None = None
    with write_transaction(ctx.engine) as connection:
        try:
            user = authenticate(
                connection,
                credentials.username,
                credentials.password,
                client=client_address(request),
                now=now,
            )
        except CourrierError as error:
            failure = error
        else:
            session = open_session(connection, user, now=now)
    if failure is not None:
        raise failure
    return {"token": session.token, "csrf_token": session.csrf_token, "user": user.to_json()}


@router.delete("/sessions/current", status_code=204)
def sign_out(request: Request, session: Annotated[StaffSession, Depends(current_staff)]) -> Response:
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        end_session(connection, session.token, now=ctx.clock())
    return Response(status_code=204)


@router.get("/me")
def me(session: Annotated[StaffSession, Depends(current_staff)]) -> dict[str, Any]:
    return session.user.to_json()


@router.get("/audit")
def audit_entries(
    request: Request,
    session: Annotated[StaffSession, Depends(staff_with_role("admin"))],
    username: str | None = None,
    limit: int = 100,
) -> dict[str, Any]:
    with context(request).engine.connect() as connection:
        entries = list_audit(connection, username=username, limit=min(max(limit, 1), 1000))
    return {"entries": [entry.to_json() for entry in entries]}
