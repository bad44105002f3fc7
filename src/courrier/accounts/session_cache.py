"""Staff sessions a server process found lately, kept for a few seconds.

Every check-in and redemption looked its staff session up: a statement and a pool checkout of its own,
a fifth of the request's CPU. The API's staff routes (``web.auth``) keep what they found for ``CACHE_S``
seconds. The rule: a cached session is never used past its ``expires_at``; ending a session or
disabling an account in this process drops it from every cache of the process at once
(:func:`forget_sessions`, called by ``end_session`` and ``disable_user``); done by another process
(another server worker, the CLI), it takes effect there within ``CACHE_S`` seconds.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from courrier.accounts.sessions import StaffSession

# How long a server process trusts a session it found without reading it again.
CACHE_S = 5.0
# Sessions one cache holds at most (a process serves a few hundred desks); when full it starts afresh.
CACHE_SIZE = 10_000


_CACHES: weakref.WeakSet[SessionCache] = weakref.WeakSet()


class SessionCache:
    """Live sessions found lately, by token, each trusted for ``ttl_s`` seconds (monotonic time) and
    never past its ``expires_at`` (the caller's clock). Only sessions found live are kept: an unknown
    token is read every time. Safe to share between threads."""

    def __init__(self, ttl_s: float = CACHE_S, size: int = CACHE_SIZE) -> None:
        self._ttl_s = ttl_s
        self._size = size
        self._found: dict[str, tuple[StaffSession, float]] = {}
        self._lock = threading.Lock()
        # Counts forgets: a lookup that read the database before one must not put back what it read.
        self.generation = 0
        _CACHES.add(self)

    def get(self, token: str, *, now: dt.datetime) -> StaffSession | None:
        entry = self._found.get(token)
        if entry is None:
            return None
        session, trusted_until = entry
        if time.monotonic() >= trusted_until or session.expires_at is None or session.expires_at <= now:
            self._found.pop(token, None)
            return None
        return session

    def put(self, session: StaffSession, *, read_at_generation: int) -> None:
        """Keep ``session``, read from the database when :attr:`generation` was
        ``read_at_generation`` (nothing is kept if a forget came since)."""
        with self._lock:
            if self.generation != read_at_generation:
                return
            if len(self._found) >= self._size:
                self._found.clear()
            self._found[session.token] = (session, time.monotonic() + self._ttl_s)

    def forget(self, *, token: str | None = None, user_id: int | None = None) -> None:
        with self._lock:
            self.generation += 1
            if token is not None:
                self._found.pop(token, None)
            if user_id is not None:
                for key, (session, _) in list(self._found.items()):
                    if session.user.id == user_id:
                        del self._found[key]


def forget_sessions(*, token: str | None = None, user_id: int | None = None) -> None:
    """Drop a session (by token) or all of a user's from every cache of this process."""
    for cache in list(_CACHES):
        cache.forget(token=token, user_id=user_id)
