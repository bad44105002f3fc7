"""Who is calling: a staff session (Bearer token or the pages' cookie) and the roles a route allows."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from courrier.accounts.roles import ROLES
from courrier.accounts.sessions import StaffSession, find_session
from courrier.errors import AccountError
from courrier.web.context import WebContext

STAFF_COOKIE = "courrier_staff"


def context(request: Request) -> WebContext:
    found: WebContext = request.app.state.context
    return found


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def current_staff(request: Request) -> StaffSession:
    token = bearer_token(request) or request.cookies.get(STAFF_COOKIE)
    if token is not None:
        ctx = context(request)
        with ctx.engine.connect() as connection:
            session = find_session(connection, token, now=ctx.clock())
        if session is not None:
            return session
    raise AccountError("sign in first", code="not_signed_in")


def staff_with_role(*roles: str) -> Callable[[Request], StaffSession]:
    """A dependency: the caller's staff session, refused (``forbidden``) unless its role is in ``roles``
    (admin is always allowed)."""
    assert all(role in ROLES for role in roles), roles
    allowed = frozenset((*roles, "admin"))

    def dependency(request: Request) -> StaffSession:
        session = current_staff(request)
        if session.user.role not in allowed:
            raise AccountError("your role may not do this", code="forbidden")
        return session

    return dependency
