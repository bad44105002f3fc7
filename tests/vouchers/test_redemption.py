"""Redeeming a voucher: once, idempotent by its nonce, each refusal, undo, the establishment's list."""

from __future__ import annotations

import datetime as dt

import base45
import pytest
from sqlalchemy import func, select

from courrier.campaigns.store import extend_campaign
from courrier.codes.format import format_code
from courrier.codes.store import reissue_piece, revoke_typed_code
from courrier.db.schema import codes, redemptions
from courrier.db.transaction import write_transaction
from courrier.errors import ConflictError, NotFoundError
from courrier.vouchers.redemption import list_redemptions, undo_redemption

from ..web.conftest import NOW
from .conftest import CAMPSITE, HOTEL, PENDING, VALID_UNTIL


def _live(engine, code_id: int) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(redemptions).where(redemptions.c.live_code_id == code_id)
        ).scalar_one()


def test_a_scanned_voucher_is_redeemed_once_for_its_value(vouchers):
    answer = vouchers.redeem(vouchers.qr[0])
    assert answer.status == "ok"
    assert answer.redemption.amount == "50.00"
    assert answer.redemption.establishment == HOTEL
    assert answer.voucher.name.startswith("Test Synthetic")
    again = vouchers.redeem(vouchers.qr[0], at=CAMPSITE)
    assert again.status == "refused"
    assert again.refusal.code == "already_redeemed"
    # When, never where.
    assert again.refusal.facts["date"] == "2021-01-20"
    assert again.refusal.facts["time"] == "10:00"
    assert HOTEL not in str(again.to_json())
    assert "establishment" not in again.refusal.facts
    with vouchers.engine.connect() as connection:
        assert connection.execute(
            select(codes.c.status).where(codes.c.id == vouchers.codes[0][0])
        ).scalar() == ("used_up")
    assert _live(vouchers.engine, vouchers.codes[0][0]) == 1


def test_a_typed_code_redeems_the_same_voucher_as_its_qr(vouchers):
    _code_id, code = vouchers.codes[1]
    typed = format_code(code).lower().replace("-", " ")
    assert vouchers.redeem(typed, scanned=False).status == "ok"
    assert vouchers.redeem(vouchers.qr[1]).refusal.code == "already_redeemed"


def test_the_same_nonce_is_the_same_redemption_with_the_first_answer(vouchers):
    first = vouchers.redeem(vouchers.qr[0], nonce_="tap-1")
    again = vouchers.redeem(vouchers.qr[0], nonce_="tap-1", now=NOW + dt.timedelta(seconds=3))
    assert again.status == "ok"
    assert again.replayed
    assert again.redemption == first.redemption
    with pytest.raises(ConflictError) as refused:
        vouchers.redeem(vouchers.qr[1], nonce_="tap-1", at=CAMPSITE)
    assert refused.value.code == "nonce_reused"


def _forged(qr: str, index: int) -> str:
    raw = bytearray(base45.b45decode(qr))
    raw[index] ^= 0x01
    return base45.b45encode(bytes(raw)).decode()


@pytest.mark.parametrize("index", [0, 1, 5, 9, 12, 14, 15, 40, 78])
def test_a_token_with_one_byte_changed_is_refused_as_forged(vouchers, index):
    answer = vouchers.redeem(_forged(vouchers.qr[0], index))
    assert answer.status == "refused"
    assert answer.refusal.code == "voucher_forged"
    assert _live(vouchers.engine, vouchers.codes[0][0]) == 0
    assert vouchers.redeem(vouchers.qr[0]).status == "ok"  # the genuine one still works


def test_refusals_unknown_revoked_expired_not_yet_valid(vouchers, keys):
    assert vouchers.redeem("2345-6789-ABCD-EF", scanned=False).refusal.code in {
        "bad_check_character",
        "unknown_voucher",
    }
    with write_transaction(vouchers.engine) as connection:
        revoke_typed_code(connection, keys, vouchers.codes[0][1], actor="t", reason="stolen", now=NOW)
    assert vouchers.redeem(vouchers.qr[0]).refusal.code == "voucher_revoked"
    late = dt.datetime.combine(VALID_UNTIL + dt.timedelta(days=1), dt.time(9), dt.UTC)
    expired = vouchers.redeem(vouchers.qr[1], now=late)
    assert expired.refusal.code == "voucher_expired"
    assert expired.refusal.facts["valid_until"] == VALID_UNTIL
    early = dt.datetime(2021, 1, 5, 9, tzinfo=dt.UTC)
    assert vouchers.redeem(vouchers.qr[1], now=early).refusal.code == "voucher_not_yet_valid"
    # The campaign's extension counts at once, though the printed token holds the old end.
    extend_campaign(vouchers.engine, "hotel-voucher", dt.date(2022, 6, 30), actor="t", now=NOW)
    assert vouchers.redeem(vouchers.qr[1], now=late).status == "ok"


def test_a_code_of_another_kind_of_campaign_is_no_voucher(vouchers, keys):
    from courrier.codes.token import sign_token

    token = sign_token(
        keys,
        campaign_id=vouchers.campaign_id + 7,
        code_id=vouchers.codes[0][0],
        valid_from=NOW.date(),
        valid_until=NOW.date(),
    )
    assert vouchers.redeem(token).refusal.code == "unknown_voucher"


def test_a_pending_establishment_may_not_redeem(vouchers):
    from courrier.errors import AccountError

    with pytest.raises(AccountError) as refused:
        vouchers.redeem(vouchers.qr[0], at=PENDING)
    assert refused.value.code == "establishment_not_approved"


def test_a_stay_that_ends_before_it_starts_is_refused(vouchers):
    from courrier.vouchers.redemption import Scan, Stay, redeem_voucher

    with pytest.raises(ConflictError) as refused, write_transaction(vouchers.engine) as connection:
        redeem_voucher(
            connection,
            vouchers.keys,
            Scan(vouchers.qr[0], True, "n-bad", "x"),
            Stay(NOW.date(), NOW.date() - dt.timedelta(days=1), "BK"),
            establishment_id=HOTEL,
            amount_cents=5000,
            now=NOW,
        )
    assert refused.value.code == "bad_stay"


def _undo(vouchers, redemption_id: int, *, at: str = HOTEL, minutes_later: int = 0):
    with write_transaction(vouchers.engine) as connection:
        return undo_redemption(
            connection,
            redemption_id,
            establishment_id=at,
            by=f"staff-{at}",
            now=NOW + dt.timedelta(minutes=minutes_later),
            undo_minutes=15,
        )


def test_undo_within_the_time_by_the_same_establishment_makes_the_voucher_redeemable_again(vouchers):
    first = vouchers.redeem(vouchers.qr[0]).redemption
    with pytest.raises(NotFoundError) as other:
        _undo(vouchers, first.id, at=CAMPSITE)
    assert other.value.code == "unknown_redemption"
    with pytest.raises(ConflictError) as late:
        _undo(vouchers, first.id, minutes_later=16)
    assert late.value.code == "undo_too_late"
    assert _undo(vouchers, first.id, minutes_later=5).undone_at is not None
    with pytest.raises(ConflictError) as twice:
        _undo(vouchers, first.id, minutes_later=6)
    assert twice.value.code == "already_undone"
    again = vouchers.redeem(vouchers.qr[0], at=CAMPSITE, now=NOW + dt.timedelta(minutes=7))
    assert again.status == "ok"
    with vouchers.engine.connect() as connection:
        assert [r.id for r in list_redemptions(connection, HOTEL)] == [first.id]
        assert [r.id for r in list_redemptions(connection, CAMPSITE)] == [again.redemption.id]


def test_the_re_sent_voucher_is_the_same_voucher(vouchers, keys, engine):
    from courrier.campaigns.store import get_campaign
    from courrier.codes.store import qr_content
    from courrier.db.schema import persons, pieces

    code_id, code = vouchers.codes[2]
    with write_transaction(engine) as connection:
        person = connection.execute(select(codes.c.person_id).where(codes.c.id == code_id)).scalar_one()
        register_id = connection.execute(select(persons.c.id).where(persons.c.id == person)).scalar_one()
        reissue = reissue_piece(
            connection,
            "hotel-voucher",
            str(register_id),
            same_code=True,
            keys=keys,
            actor="t",
            reason="lost",
            now=NOW,
        )
        campaign = get_campaign(connection, "hotel-voucher")
        row = connection.execute(select(codes).where(codes.c.id == reissue.code_id)).one()
        assert (
            connection.execute(select(pieces.c.code_id).where(pieces.c.id == reissue.new_piece_id)).scalar()
            == code_id
        )
    assert reissue.code_id == code_id
    assert reissue.code == format_code(code)
    resent_qr = qr_content(
        campaign, code, keys=keys, code_id=row.id, valid_from=row.valid_from, valid_until=row.valid_until
    )
    assert resent_qr == vouchers.qr[2]
    assert vouchers.redeem(resent_qr).status == "ok"
    assert vouchers.redeem(vouchers.qr[2], at=CAMPSITE).refusal.code == "already_redeemed"
