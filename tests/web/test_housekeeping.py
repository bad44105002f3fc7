"""`courrier users prune` (and the task worker's hour): ended staff sessions and idle failure counters go;
a live session still signs in, and a block or a window still counting still holds."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from courrier.accounts.housekeeping import LONGEST_WINDOW_S
from courrier.accounts.sessions import end_session, find_session, open_session
from courrier.accounts.throttle import Limit, count_failure, retry_after
from courrier.accounts.users import LOGIN_LIMIT, get_user
from courrier.booking import code_entry, requests
from courrier.cli import courrier
from courrier.db.schema import staff_sessions, throttle_counters
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow
from courrier.production.task_runs import Tools, work

from .conftest import add_staff

LIMIT = Limit(failures=3, window_s=60, block_s=60)


def _rows(engine: Engine, table: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _leftovers(engine: Engine, now: dt.datetime) -> dict[str, str]:
    """A live session, a signed-out one, an expired one; a client blocked now, one inside its window,
    one whose block and window are long over. Returns the live session's token."""
    add_staff(engine, "rita", "reception")
    hours_ago = now - dt.timedelta(hours=11)
    with write_transaction(engine) as connection:
        user = get_user(connection, "rita")
        assert user is not None
        live = open_session(connection, user, now=now)
        ended = open_session(connection, user, now=now)
        end_session(connection, ended.token, now=now)
        open_session(connection, user, now=hours_ago)
        for _ in range(LIMIT.failures):
            count_failure(connection, "code-client", "203.0.113.1", LIMIT, now)
        count_failure(connection, "code-client", "203.0.113.2", LIMIT, now - dt.timedelta(seconds=30))
        for _ in range(LIMIT.failures):
            count_failure(connection, "code-client", "203.0.113.3", LIMIT, hours_ago)
    return {"live": live.token}


def test_prune_deletes_what_can_sign_in_or_block_nobody_and_keeps_the_rest(cli_env, engine):
    now = utcnow()
    tokens = _leftovers(engine, now)
    assert (_rows(engine, staff_sessions), _rows(engine, throttle_counters)) == (3, 3)

    pruned = CliRunner().invoke(courrier, ["users", "prune", "--json"])
    assert pruned.exit_code == 0, pruned.output
    assert json.loads(pruned.output) == {"sessions": 2, "counters": 1}
    assert (_rows(engine, staff_sessions), _rows(engine, throttle_counters)) == (1, 2)
    with write_transaction(engine) as connection:
        assert find_session(connection, tokens["live"], now=utcnow()) is not None
        assert retry_after(connection, "code-client", "203.0.113.1", utcnow()) is not None
        # The client inside its window: its earlier failure still counts towards the block.
        for _ in range(LIMIT.failures - 1):
            count_failure(connection, "code-client", "203.0.113.2", LIMIT, utcnow())
        assert retry_after(connection, "code-client", "203.0.113.2", utcnow()) is not None

    again = CliRunner().invoke(courrier, ["users", "prune"])
    assert again.exit_code == 0, again.output
    assert again.output == "deleted 0 ended staff session(s) and 0 idle failure counter(s)\n"


def test_a_task_worker_prunes_the_leftovers_with_its_tasks(engine):
    now = utcnow()
    _leftovers(engine, now)
    tools = Tools(keys=lambda: None, client=lambda: None, signer=lambda _n: None, profiles=lambda: None)  # type: ignore[arg-type,return-value]
    assert work(engine, tools, once=True, clock=lambda: now) == 0
    assert _rows(engine, staff_sessions) == 3
    work(engine, tools, once=True, clock=lambda: now, keep_days=30)
    assert (_rows(engine, staff_sessions), _rows(engine, throttle_counters)) == (1, 2)


def test_no_limit_counts_longer_than_the_pruning_waits():
    limits = [code_entry.CLIENT_LIMIT, code_entry.TYPED_LIMIT, requests.CLIENT_LIMIT]

    assert max(limit.window_s for limit in [*limits, LOGIN_LIMIT]) <= LONGEST_WINDOW_S
