"""Failure counters for whatever can be guessed: staff passwords and citizens' personal codes.

A counter is a row per (scope, key), e.g. ``("code-client", "203.0.113.7")`` or ``("login-user",
"alice")``. Failures inside one window add up; at the limit the key is blocked until the window's block
time has passed, and :func:`retry_after` tells the caller how long to wait (the web layer answers ``429``
with ``Retry-After``). Counting in the database, not in a process, makes the limit hold across server
workers and restarts. A block always ends: nobody is locked out for good by someone else's guesses.

Successes do not write (the opening rush is all successes); they only read the counter.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, or_, select
from sqlalchemy.exc import IntegrityError

from courrier.db.schema import throttle_counters


@dataclass(frozen=True)
class Limit:
    """``failures`` failures within ``window_s`` seconds block the key for ``block_s`` seconds."""

    failures: int
    window_s: int
    block_s: int


def retry_after(connection: Connection, scope: str, key: str, now: dt.datetime) -> int | None:
    """Seconds to wait while ``key`` is blocked (at least 1), else ``None``."""
    blocked_until = connection.execute(
        select(throttle_counters.c.blocked_until).where(
            throttle_counters.c.scope == scope, throttle_counters.c.key == key
        )
    ).scalar()
    return _seconds(blocked_until, now)


def first_blocked(connection: Connection, keys: Sequence[tuple[str, str]], now: dt.datetime) -> int | None:
    """Seconds to wait while any of the ``(scope, key)`` pairs is blocked (the longest), else ``None``:
    one read for all of them (code entry checks its client and the typed code on every request)."""
    params = throttle_params(keys, now)
    waits = [
        retry
        for blocked_until in connection.execute(_blocked_query(len(keys)), params).scalars()
        if (retry := _seconds(blocked_until, now)) is not None
    ]
    return max(waits) if waits else None


def throttle_params(keys: Sequence[tuple[str, str]], now: dt.datetime) -> dict[str, object]:
    """The parameters of :func:`blocked_until_column` for the ``(scope, key)`` pairs."""
    params: dict[str, object] = {"now": now}
    for number, (scope, key) in enumerate(keys):
        params[f"scope{number}"] = scope
        params[f"key{number}"] = key
    return params


@functools.cache
def blocked_until_column(pairs: int) -> Any:
    """A scalar subquery: the latest ``blocked_until`` still to come of ``pairs`` ``(scope, key)`` pairs
    (:func:`throttle_params`), else NULL; for a caller that reads its own row in the same statement."""
    found = _blocked_query(pairs).subquery()
    return select(func.max(found.c.blocked_until)).scalar_subquery()


def wait_for(blocked_until: dt.datetime | None, now: dt.datetime) -> int | None:
    """Seconds to wait while blocked until ``blocked_until`` (at least 1), else ``None``."""
    return _seconds(blocked_until, now)


@functools.cache
def _blocked_query(pairs: int) -> Any:
    # Built once per number of pairs: building the expression costs more than running it.
    table = throttle_counters.c
    return select(table.blocked_until).where(
        or_(
            *(
                and_(table.scope == bindparam(f"scope{number}"), table.key == bindparam(f"key{number}"))
                for number in range(pairs)
            )
        ),
        table.blocked_until > bindparam("now", type_=table.blocked_until.type),
    )


def _seconds(blocked_until: dt.datetime | None, now: dt.datetime) -> int | None:
    if blocked_until is None or blocked_until <= now:
        return None
    seconds: float = (blocked_until - now).total_seconds()
    return max(1, math.ceil(seconds))


def count_failure(connection: Connection, scope: str, key: str, limit: Limit, now: dt.datetime) -> None:
    """Add one failure for ``key``; one atomic UPDATE (or the first INSERT), so concurrent failures from
    several workers all count."""
    table = throttle_counters.c
    window_over = table.window_started_at < now - dt.timedelta(seconds=limit.window_s)
    failures = case((window_over, 1), else_=table.failures + 1)
    blocked = now + dt.timedelta(seconds=limit.block_s)
    updated = connection.execute(
        throttle_counters.update()
        .where(and_(table.scope == scope, table.key == key))
        .values(
            failures=failures,
            window_started_at=case((window_over, now), else_=table.window_started_at),
            blocked_until=case((failures >= limit.failures, blocked), else_=table.blocked_until),
        )
    ).rowcount
    if updated:
        return
    try:
        with connection.begin_nested():
            connection.execute(
                throttle_counters.insert().values(
                    scope=scope,
                    key=key,
                    failures=1,
                    window_started_at=now,
                    blocked_until=blocked if limit.failures <= 1 else None,
                )
            )
    except IntegrityError:
        # Another worker inserted the row meanwhile: count on it.
        count_failure(connection, scope, key, limit, now)


def clear_failures(connection: Connection, scope: str, key: str) -> None:
    connection.execute(
        throttle_counters.delete().where(throttle_counters.c.scope == scope, throttle_counters.c.key == key)
    )
