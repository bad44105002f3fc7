"""Who is calling: a staff session (Bearer token or the pages' cookie) and the roles a route allows."""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Request

from courrier.accounts.roles import ROLES
from courrier.accounts.session_cache import SessionCache
from courrier.accounts.sessions import StaffSession, csrf_matches, find_session
from courrier.db.engine import POOL_SIZE
from courrier.db.transaction import read_connection
from courrier.errors import AccountError
from courrier.web.context import WebContext

STAFF_COOKIE = "courrier_staff"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")


def context(request: Request) -> WebContext:
    found: WebContext = request.app.state.context
    return found


# Threads that may run a request's database work at once in one server process (PostgreSQL): no more
# than the engine's pool keeps (engine.py), and few, since each thread waits for the GIL after every
# round trip while the others run; the event loop's default pool has 40.
DATABASE_THREADS = POOL_SIZE
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


def _limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    found = _limiters.get(loop)
    if found is None:
        found = _limiters[loop] = CapacityLimiter(DATABASE_THREADS)
    return found


async def on_loop_or_thread(ctx: WebContext, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a short database use case for an ``async`` route: on the event loop for SQLite (in-process
    calls of a few microseconds; the thread pool's hand-over costs more), in a thread for a server
    database, whose round trips would otherwise hold the loop while they wait (at most
    ``DATABASE_THREADS`` at once, the others queued on the loop)."""
    if ctx.engine.dialect.name == "sqlite":
        return function(*args, **kwargs)
    return await anyio.to_thread.run_sync(functools.partial(function, *args, **kwargs), limiter=_limiter())


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


_session_caches: weakref.WeakKeyDictionary[Any, SessionCache] = weakref.WeakKeyDictionary()


def _sessions(ctx: WebContext) -> SessionCache:
    """The process's cache of staff sessions for ``ctx``'s database (``accounts.session_cache``)."""
    found = _session_caches.get(ctx.engine)
    if found is None:
        found = _session_caches[ctx.engine] = SessionCache()
    return found


def _lookup(ctx: WebContext, token: str) -> StaffSession | None:
    cache = _sessions(ctx)
    generation = cache.generation
    with read_connection(ctx.engine) as connection:
        found = find_session(connection, token, now=ctx.clock())
    if found is not None:
        cache.put(found, read_at_generation=generation)
    return found


def _known(ctx: WebContext, token: str) -> StaffSession | None:
    return _sessions(ctx).get(token, now=ctx.clock())


def _caller_token(request: Request) -> tuple[str | None, bool]:
    """The session token sent (a Bearer token, or the pages' cookie), and whether it came as a Bearer."""
    bearer = bearer_token(request)
    return bearer or request.cookies.get(STAFF_COOKIE), bearer is not None


def _checked(request: Request, session: StaffSession | None, bearer: bool) -> StaffSession:
    if session is None:
        raise AccountError("sign in first", code="not_signed_in")
    cross_site_risk = not bearer and request.method not in SAFE_METHODS
    if cross_site_risk and not csrf_matches(session, request.headers.get(CSRF_HEADER)):
        raise AccountError("send the session's CSRF token in X-CSRF-Token", code="bad_csrf_token")
    return session


def current_staff(request: Request) -> StaffSession:
    """The caller's staff session: a Bearer token, or the pages' cookie. A browser sends the cookie with
    any site's form, so with the cookie alone a write (anything but GET, HEAD, OPTIONS) must also carry
    the session's CSRF token in ``X-CSRF-Token`` (a header no cross-site form can set), else it is
    refused (``bad_csrf_token``)."""
    token, bearer = _caller_token(request)
    ctx = context(request)
    found = None if token is None else _known(ctx, token) or _lookup(ctx, token)
    return _checked(request, found, bearer)


def staff_with_role(*roles: str) -> Callable[[Request], Awaitable[StaffSession]]:
    """A dependency: the caller's staff session (as :func:`current_staff`), refused (``forbidden``)
    unless its role is in ``roles`` (admin is always allowed).

    ``async``, its lookup on the event loop for SQLite (``on_loop_or_thread``): a plain ``def``
    dependency is run in the thread pool, and that hand-over, with the GIL going back and forth between
    the pool's threads and the loop, cost a desk's check-in more than its transaction. A session found
    in the last few seconds is not read again (``accounts.session_cache``)."""
    assert all(role in ROLES for role in roles), roles
    allowed = frozenset((*roles, "admin"))

    async def dependency(request: Request) -> StaffSession:
        token, bearer = _caller_token(request)
        ctx = context(request)
        found = None if token is None else _known(ctx, token)
        if found is None and token is not None:
            found = await on_loop_or_thread(ctx, _lookup, ctx, token)
        session = _checked(request, found, bearer)
        if session.user.role not in allowed:
            raise AccountError("your role may not do this", code="forbidden")
        return session

    return dependency
