"""A redemption's answer types spell their JSON out (for speed): the same as the generic shape
(result.py), with the amount as text and without the voucher's ids."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from courrier.result import Result, plain
from courrier.vouchers.redemption import Redemption, Voucher

AT = dt.datetime(2026, 7, 1, 14, 3, 9, 5, tzinfo=dt.UTC)


def _generic(value: Result) -> dict[str, object]:
    return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}  # type: ignore[arg-type]


@pytest.mark.parametrize("undone_at", [None, AT + dt.timedelta(minutes=3)])
def test_a_redemption_answers_in_the_generic_shape_with_its_amount(undone_at: dt.datetime | None):
    redemption = Redemption(
        9,
        "n1",
        "E01",
        5005,
        dt.date(2026, 7, 1),
        dt.date(2026, 7, 3),
        "B-1",
        "hotel1",
        AT,
        undone_at,
        None if undone_at is None else "hotel1",
    )
    assert redemption.to_json() == {**_generic(redemption), "amount": "50.05"}


@pytest.mark.parametrize("valid_from", [None, dt.date(2026, 6, 1)])
def test_a_voucher_answers_in_the_generic_shape_without_its_ids(valid_from: dt.date | None):
    voucher = Voucher(3, 1, "Ana Reis", valid_from, dt.date(2026, 12, 31))
    expected = _generic(voucher)
    del expected["code_id"], expected["campaign_id"]
    assert voucher.to_json() == expected
