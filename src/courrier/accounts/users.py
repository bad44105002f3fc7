"""Staff users: add, list, disable, change a password, sign in (throttled)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Row, select
from sqlalchemy.exc import IntegrityError

from courrier.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from courrier.accounts.roles import check_scope
from courrier.accounts.session_cache import forget_sessions
from courrier.accounts.throttle import Limit, clear_failures, count_failure, retry_after
from courrier.db.schema import staff_users
from courrier.errors import AccountError, ConflictError, NotFoundError

# Ten wrong passwords in 15 minutes block the user name (from anywhere) and, separately, the client.
LOGIN_LIMIT = Limit(failures=10, window_s=15 * 60, block_s=15 * 60)


@dataclass(frozen=True)
class StaffUser:
    id: int
    username: str
    role: str
    centre_id: str | None
    establishment_id: str | None
    disabled: bool

    def to_json(self) -> dict[str, object]:
        return {
            "username": self.username,
            "role": self.role,
            "centre": self.centre_id,
            "establishment": self.establishment_id,
            "disabled": self.disabled,
        }


class ThrottledError(AccountError):
    """Too many failures: wait ``retry_after_s`` seconds."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, code="throttled")
        self.retry_after_s = retry_after_s


def _user(row: Row[tuple[object, ...]]) -> StaffUser:
    return StaffUser(
        id=row.id,
        username=row.username,
        role=row.role,
        centre_id=row.centre_id,
        establishment_id=row.establishment_id,
        disabled=row.disabled,
    )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"a password has at least {MIN_PASSWORD_LENGTH} characters", code="password_too_short"
        )


def add_user(
    connection: Connection,
    username: str,
    password: str,
    role: str,
    *,
    now: dt.datetime,
    centre_id: str | None = None,
    establishment_id: str | None = None,
) -> StaffUser:
    username = username.strip()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise AccountError("a user name is 1 to 64 characters without spaces", code="bad_username")
    check_scope(role, centre_id, establishment_id)
    _check_password(password)
    try:
        with connection.begin_nested():
            connection.execute(
                staff_users.insert().values(
                    username=username,
                    password_hash=hash_password(password),
                    role=role,
                    centre_id=centre_id,
                    establishment_id=establishment_id,
                    disabled=False,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise ConflictError(f"user {username!r} exists already", code="user_exists") from None
    return get_user(connection, username)


def get_user(connection: Connection, username: str) -> StaffUser:
    row = connection.execute(select(staff_users).where(staff_users.c.username == username)).one_or_none()
    if row is None:
        raise NotFoundError(f"no user {username!r}", code="unknown_user")
    return _user(row)


def user_by_id(connection: Connection, user_id: int) -> StaffUser:
    return _user(connection.execute(select(staff_users).where(staff_users.c.id == user_id)).one())


def list_users(connection: Connection) -> list[StaffUser]:
    return [_user(row) for row in connection.execute(select(staff_users).order_by(staff_users.c.username))]


def disable_user(connection: Connection, username: str, *, now: dt.datetime) -> StaffUser:
    user = get_user(connection, username)
    connection.execute(
        staff_users.update().where(staff_users.c.id == user.id).values(disabled=True, updated_at=now)
    )
    forget_sessions(user_id=user.id)
    return get_user(connection, username)


def set_password(connection: Connection, username: str, password: str, *, now: dt.datetime) -> None:
    user = get_user(connection, username)
    _check_password(password)
    connection.execute(
        staff_users.update()
        .where(staff_users.c.id == user.id)
        .values(password_hash=hash_password(password), updated_at=now)
    )


def authenticate(
    connection: Connection, username: str, password: str, *, client: str, now: dt.datetime
) -> StaffUser:
    """The user, if the password is right and the account enabled; ``bad_credentials`` otherwise (the
    same answer for an unknown user), ``throttled`` after too many failures by user name or client."""
    for scope, key in (("login-user", username[:64]), ("login-client", client[:64])):
        wait = retry_after(connection, scope, key, now)
        if wait is not None:
            raise ThrottledError("too many failed sign-ins: try again later", retry_after_s=wait)
    row = connection.execute(select(staff_users).where(staff_users.c.username == username)).one_or_none()
    ok = verify_password(password, None if row is None else row.password_hash)
    if not ok or row is None or row.disabled:
        count_failure(connection, "login-user", username[:64], LOGIN_LIMIT, now)
        count_failure(connection, "login-client", client[:64], LOGIN_LIMIT, now)
        raise AccountError("wrong user name or password", code="bad_credentials")
    clear_failures(connection, "login-user", username[:64])
    return _user(row)
