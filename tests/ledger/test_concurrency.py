"""Races, run for real: many threads, each on its own database connection, at the same moment.

Each test starts its workers behind a barrier so they hit the database together, then counts outcomes
a user would notice: how many uses were granted, what the others were told, how many letters exist.
The control at the end runs the same kind of crowd against a use counted without the guard (read the
count, then write it back) and shows the double use, so these tests can fail.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign
from courrier.codes.issue import issue_codes
from courrier.codes.keys import new_keys
from courrier.codes.sealing import reveal_code
from courrier.codes.store import reissue_piece, use_code
from courrier.db import write_transaction
from courrier.db.schema import code_uses, codes, pieces
from courrier.errors import CourrierError

from ..campaigns.conftest import CAMPAIGN, NOW, add_persons
from ..conftest import HANG_S

KEYS = new_keys()
CROWD = 100
AT = dt.datetime(2021, 2, 1, 9, 0, tzinfo=dt.UTC)


def _voucher(engine: Engine, make_definition: Any, max_uses: int) -> str:
    """A campaign of one person whose code may be used ``max_uses`` times; returns the code."""
    text = (
        CAMPAIGN.replace('name = "vaccination-75plus"', f'name = "voucher-{max_uses}"')
        .replace('kind = "invitation"', 'kind = "voucher"')
        .replace("validity_days = 14", "valid_until = 2021-12-31")
        .replace("max_uses = 2", f"max_uses = {max_uses}")
    )
    add_persons(engine, {"birth_date": dt.date(1930, 5, 5)})
    definition = make_definition(text)
    create_campaign(engine, definition, actor="t", now=NOW)
    plan_campaign(engine, definition.name, actor="t", now=NOW)
    issue_codes(engine, definition.name, keys=KEYS, actor="t", now=NOW)
    with engine.connect() as connection:
        sealed = connection.execute(select(codes.c.ciphertext)).scalar_one()
    return reveal_code(KEYS, sealed)


def _crowd(engine: Engine, workers: int, work: Callable[[Connection, int], Any]) -> list[Any]:
    """Run ``work`` in ``workers`` threads at once, each in its own write transaction; returns each
    worker's result, or the ``.code`` of the error it got."""
    # The crowd is larger than the pool (16 connections): the others queue for one, each for as long as
    # the transactions before it take. SQLAlchemy gives up after 30 s (a TimeoutError, not a refusal),
    # which a loaded machine can reach with 84 in the queue; here it is only a guard against a hang.
    engine.pool._timeout = HANG_S  # type: ignore[attr-defined]
    start = threading.Barrier(workers, timeout=HANG_S)

    def one(index: int) -> Any:
        start.wait()
        try:
            with write_transaction(engine) as connection:
                return work(connection, index)
        except CourrierError as error:
            return error.code

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, range(workers)))


def _uses(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        counted = connection.execute(select(codes.c.uses)).scalar_one()
        rows = connection.execute(select(func.count()).select_from(code_uses)).scalar_one()
    return counted, rows


def _granted(results: list[Any]) -> Counter[str]:
    return Counter(result if isinstance(result, str) else "granted" for result in results)


def test_a_hundred_simultaneous_uses_of_a_one_use_code_grant_exactly_one(engine, make_definition):
    code = _voucher(engine, make_definition, max_uses=1)
    results = _crowd(engine, CROWD, lambda c, i: use_code(c, KEYS, code, actor=f"hotel-{i}", now=AT))
    assert _granted(results) == {"granted": 1, "code_used_up": CROWD - 1}
    assert _uses(engine) == (1, 1)


def test_a_three_use_code_is_used_exactly_three_times(engine, make_definition):
    code = _voucher(engine, make_definition, max_uses=3)
    results = _crowd(
        engine, CROWD, lambda c, i: use_code(c, KEYS, code, actor="centre", now=AT, nonce=f"scan-{i}")
    )
    assert _granted(results) == {"granted": 3, "code_used_up": CROWD - 3}
    assert sorted(result.use_number for result in results if not isinstance(result, str)) == [1, 2, 3]
    assert _uses(engine) == (3, 3)


def test_a_hundred_retries_with_one_nonce_are_one_use_with_one_answer(engine, make_definition):
    code = _voucher(engine, make_definition, max_uses=3)
    results = _crowd(
        engine, CROWD, lambda c, i: use_code(c, KEYS, code, actor="centre", now=AT, nonce="scan-42")
    )
    assert all(not isinstance(result, str) for result in results), Counter(map(str, results))
    assert len(set(results)) == 1
    assert results[0].use_number == 1
    assert _uses(engine) == (1, 1)


def test_two_reissues_of_one_piece_at_once_give_one_new_piece_and_one_conflict(engine, make_definition):
    _voucher(engine, make_definition, max_uses=1)
    with engine.connect() as connection:
        piece_id, person_id = connection.execute(select(pieces.c.id, pieces.c.person_id)).one()
    results = _crowd(
        engine,
        2,
        lambda c, i: reissue_piece(
            c,
            "voucher-1",
            str(person_id),
            same_code=True,
            keys=KEYS,
            actor="clerk",
            piece_id=piece_id,
            now=AT,
        ),
    )
    refused = [result for result in results if isinstance(result, str)]
    assert refused == ["piece_reissued"]
    (done,) = [result for result in results if not isinstance(result, str)]
    assert done.old_piece_id == piece_id
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(pieces)).scalar_one() == 2


def _unguarded_use(connection: Connection, code_id: int, start: threading.Barrier) -> bool:
    """A use counted the naive way: read the count, check it, write it back (no guard in the UPDATE,
    no write lock taken up front)."""
    uses, max_uses = connection.execute(
        select(codes.c.uses, codes.c.max_uses).where(codes.c.id == code_id)
    ).one()
    start.wait()  # everyone has read the count before anyone writes it
    if uses >= max_uses:
        return False
    connection.execute(codes.update().where(codes.c.id == code_id).values(uses=uses + 1))
    return True


def test_control_without_the_guard_a_one_use_code_is_used_many_times(engine, make_definition):
    _voucher(engine, make_definition, max_uses=1)
    with engine.connect() as connection:
        code_id = connection.execute(select(codes.c.id)).scalar_one()
    workers = 8  # each holds its connection at the barrier: stay within the pool
    start = threading.Barrier(workers, timeout=HANG_S)

    def one(_index: int) -> bool:
        with engine.begin() as connection:
            return _unguarded_use(connection, code_id, start)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        granted = sum(pool.map(one, range(workers)))
    assert granted == workers  # every one of them was let in: the double use the guard prevents
