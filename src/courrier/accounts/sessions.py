"""Server-side staff sessions and their CSRF tokens.

The client holds a random token (a cookie for pages, a Bearer token for the API); the table holds its
sha256. Every session has its own CSRF token, which every form posts back.

A server process may keep the sessions it found for a few seconds (``accounts.session_cache``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from courrier.accounts.session_cache import forget_sessions
from courrier.accounts.users import StaffUser
from courrier.db.schema import staff_sessions, staff_users

SESSION_HOURS = 10


@dataclass(frozen=True)
class StaffSession:
    token: str
    csrf_token: str
    user: StaffUser
    expires_at: dt.datetime | None = None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def open_session(connection: Connection, user: StaffUser, *, now: dt.datetime) -> StaffSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    connection.execute(
        staff_sessions.insert().values(
            token_sha256=_digest(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + dt.timedelta(hours=SESSION_HOURS),
        )
    )
    return StaffSession(token, csrf, user)


# Built once, the session and its user in one read: every staff request looks its session up (building
# the statement per call cost more than the database's work).
_FIND = (
    select(
        staff_sessions.c.csrf_token,
        staff_sessions.c.expires_at,
        staff_sessions.c.ended_at,
        staff_users.c.id,
        staff_users.c.username,
        staff_users.c.role,
        staff_users.c.centre_id,
        staff_users.c.establishment_id,
        staff_users.c.disabled,
    )
    .join(staff_users, staff_users.c.id == staff_sessions.c.user_id)
    .where(staff_sessions.c.token_sha256 == bindparam("digest"))
)


def find_session(connection: Connection, token: str, *, now: dt.datetime) -> StaffSession | None:
    """The live session of ``token``: not ended, not expired, its user not disabled."""
    row = connection.execute(_FIND, {"digest": _digest(token)}).one_or_none()
    if row is None or row.ended_at is not None or row.expires_at <= now or row.disabled:
        return None
    user = StaffUser(row.id, row.username, row.role, row.centre_id, row.establishment_id, row.disabled)
    return StaffSession(token, row.csrf_token, user, row.expires_at)


def end_session(connection: Connection, token: str, *, now: dt.datetime) -> None:
    forget_sessions(token=token)
    connection.execute(
        staff_sessions.update()
        .where(staff_sessions.c.token_sha256 == _digest(token), staff_sessions.c.ended_at.is_(None))
        .values(ended_at=now)
    )


def csrf_matches(session: StaffSession, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(session.csrf_token, submitted)
