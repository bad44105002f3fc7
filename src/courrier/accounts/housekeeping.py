"""The web's leftovers: staff sessions that can no longer sign anyone in, and failure counters that
no longer block or count for anyone.

Both tables only grow otherwise: a session row per sign-in (a centre's desks sign in every morning), a
counter row per client address that ever mistyped a code, kept long after it matters. The client
addresses are the citizens' own, so keeping them longer than the limit needs them is keeping personal
data without a reason.

Deleting is the same as keeping here, which is why it is safe at any time:

- a session ended (signed out, or its account disabled) or past its ``expires_at`` is refused whether
  its row is there or not (``accounts.sessions``);
- a counter whose block has passed and whose window started longer ago than any limit's window would be
  started again from one failure by the next failure (``accounts.throttle.count_failure``), as a missing
  row is.

:func:`prune_web_leftovers` is run by ``courrier users prune`` and by each task worker with its own
pruning of ended tasks (``production.task_runs``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, delete, or_

from courrier.db.schema import staff_sessions, throttle_counters

# The longest window of any throttle limit (the re-send requests' hour: booking.requests.CLIENT_LIMIT);
# a test keeps this in step with the limits.
LONGEST_WINDOW_S = 60 * 60


@dataclass(frozen=True)
class Pruned:
    """How many rows :func:`prune_web_leftovers` deleted."""

    sessions: int
    counters: int

    def to_json(self) -> dict[str, int]:
        return {"sessions": self.sessions, "counters": self.counters}


def prune_web_leftovers(connection: Connection, now: dt.datetime) -> Pruned:
    """Delete the ended or expired staff sessions and the throttle counters that are neither blocking
    nor inside a window any more, in the caller's write transaction."""
    sessions = staff_sessions.c
    ended = connection.execute(
        delete(staff_sessions).where(or_(sessions.ended_at.is_not(None), sessions.expires_at <= now))
    ).rowcount
    counters = throttle_counters.c
    window_start = now - dt.timedelta(seconds=LONGEST_WINDOW_S)
    idle = connection.execute(
        delete(throttle_counters).where(
            counters.window_started_at < window_start,
            or_(counters.blocked_until.is_(None), counters.blocked_until <= now),
        )
    ).rowcount
    return Pruned(sessions=ended, counters=idle)
