"""A use given back (a voucher redemption undone) frees the code for one more use, whichever use it was."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from courrier.codes.store import use_code
from courrier.db import write_transaction
from courrier.db.schema import code_uses, codes
from courrier.errors import CodeError
from courrier.ledger.codes import return_use

from .test_concurrency import AT, KEYS, _voucher


def _give_back(engine, nonce: str) -> bool:
    with write_transaction(engine) as connection:
        code_id = connection.execute(select(codes.c.id)).scalar_one()
        return return_use(connection, code_id, nonce, actor="hotel", reason="mistaken scan", now=AT)


def _use(engine, code: str, nonce: str) -> int:
    with write_transaction(engine) as connection:
        return use_code(connection, KEYS, code, actor="hotel", now=AT, nonce=nonce).use_number


def _numbers(engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(select(code_uses.c.nonce, code_uses.c.use_number)).all())


def test_giving_back_a_middle_use_of_a_three_use_code_lets_it_be_used_once_more(engine, make_definition):
    code = _voucher(engine, make_definition, max_uses=3)
    assert [_use(engine, code, nonce) for nonce in ("a", "b", "c")] == [1, 2, 3]

    assert _give_back(engine, "b")
    assert _use(engine, code, "d") == 3
    assert _numbers(engine) == {"a": 1, "c": 2, "d": 3}
    with pytest.raises(CodeError) as refused:
        _use(engine, code, "e")
    assert refused.value.code == "code_used_up"


def test_giving_back_each_use_in_turn_keeps_the_count_and_the_rows_in_step(engine, make_definition):
    code = _voucher(engine, make_definition, max_uses=3)
    for nonce in ("a", "b", "c"):
        _use(engine, code, nonce)
    for returned, fresh in (("a", "x"), ("c", "y"), ("x", "z")):
        assert _give_back(engine, returned)
        assert not _give_back(engine, returned)  # given back already
        _use(engine, code, fresh)
        numbers = _numbers(engine)
        assert sorted(numbers.values()) == [1, 2, 3]
        with engine.connect() as connection:
            assert connection.execute(select(codes.c.uses, codes.c.status)).one() == (3, "used_up")
    assert set(_numbers(engine)) == {"b", "y", "z"}
