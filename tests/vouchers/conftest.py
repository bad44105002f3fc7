"""A signed voucher campaign with issued codes, approved and pending establishments, and their staff."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from courrier.campaigns.definition import parse_definition
from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign, get_campaign
from courrier.codes.issue import issue_codes
from courrier.codes.keys import Keys
from courrier.codes.sealing import reveal_code
from courrier.codes.store import qr_content
from courrier.db.schema import codes, staff_users
from courrier.db.transaction import write_transaction
from courrier.vouchers.establishments import import_establishments
from courrier.vouchers.redemption import Answer, Scan, Stay, redeem_voucher

from ..campaigns.conftest import add_persons
from ..web.conftest import NOW, client, clock, keys, make_client, password_hash

__all__ = ["client", "clock", "keys", "make_client", "password_hash"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Issued before the web tests' NOW (2021-01-20), valid until the end of 2021.
ISSUED_AT = dt.datetime(2021, 1, 10, 8, 0, tzinfo=dt.UTC)
VALID_UNTIL = dt.date(2021, 12, 31)
VOUCHER = """
name = "hotel-voucher"
kind = "voucher"
template = "{template}"
languages = ["fr", "de", "en", "pt", "lb"]
[cohort]
sources = ["rnpp"]
reference_date = 2021-01-01
min_age = 16
order = "postcode"
[waves]
size = 10000
[codes]
valid_until = 2021-12-31
max_uses = 1
[qr]
signed = true
"""
HOTEL, CAMPSITE, PENDING = "H-0001", "C-0002", "H-0003"
ESTABLISHMENTS = [
    {
        "id": HOTEL,
        "name": "Hôtel du Parc",
        "kind": "hotel",
        "licence_number": "HOT-2019-0001",
        "address": "Rue du Parc 1",
        "postcode": "L-1750",
        "iban": "LU28 0019 4006 4475 0000",
        "contact": "reception@parc.example.lu",
    },
    {
        "id": CAMPSITE,
        "name": "Camping Sûre",
        "kind": "campsite",
        "licence_number": "CAM-2018-0002",
        "address": "Route de la Sûre 12",
        "postcode": "L-9412",
        "iban": "LU120010001234567891",
        "contact": "info@camping-sure.example.lu",
    },
]
_nonces = itertools.count(1)


def nonce() -> str:
    return f"r-{next(_nonces)}"


@dataclass(frozen=True)
class Vouchers:
    engine: Engine
    keys: Keys
    campaign_id: int
    codes: list[tuple[int, str]]  # (code id, compact code)
    qr: list[str]  # what each voucher's QR code holds

    def redeem(
        self,
        text: str,
        *,
        scanned: bool = True,
        at: str = HOTEL,
        now: dt.datetime = NOW,
        nonce_: str | None = None,
        reference: str = "BK-1",
        guarded: bool = True,
    ) -> Answer:
        with write_transaction(self.engine) as connection:
            return redeem_voucher(
                connection,
                self.keys,
                Scan(text, scanned, nonce_ or nonce(), f"desk-{at}"),
                Stay(now.date(), now.date() + dt.timedelta(days=1), reference),
                establishment_id=at,
                amount_cents=5000,
                now=now,
                guarded=guarded,
            )


@pytest.fixture
def make_vouchers(engine: Engine, keys: Keys, tmp_path: Path) -> Callable[..., Vouchers]:
    def make(people: int = 3) -> Vouchers:
        add_persons(
            engine, *[{"birth_date": dt.date(1980, 1, 1) + dt.timedelta(days=n)} for n in range(people)]
        )
        definition = parse_definition(
            VOUCHER.format(template=EXAMPLES / "templates" / "voucher"), base=tmp_path
        )
        create_campaign(engine, definition, actor="t", now=ISSUED_AT)
        plan_campaign(engine, definition.name, actor="t", now=ISSUED_AT)
        issue_codes(engine, definition.name, keys=keys, actor="t", now=ISSUED_AT)
        with write_transaction(engine) as connection:
            campaign = get_campaign(connection, definition.name)
            rows = list(connection.execute(select(codes).order_by(codes.c.id)))
            import_establishments(connection, enumerate(ESTABLISHMENTS, 2), actor="t", now=ISSUED_AT)
            pending = {**ESTABLISHMENTS[0], "id": PENDING, "licence_number": "HOT-2020-0003"}
            import_establishments(connection, [(2, pending)], actor="t", now=ISSUED_AT, status="pending")
        found = [(row.id, reveal_code(keys, row.ciphertext)) for row in rows]
        qr = [
            qr_content(
                campaign,
                code,
                keys=keys,
                code_id=row.id,
                valid_from=row.valid_from,
                valid_until=row.valid_until,
            )
            for row, (_, code) in zip(rows, found, strict=True)
        ]
        return Vouchers(engine, keys, campaign.id, found, qr)

    return make


@pytest.fixture
def vouchers(make_vouchers: Callable[..., Vouchers]) -> Vouchers:
    return make_vouchers()


@pytest.fixture
def establishment_staff(engine: Engine, password_hash: str) -> None:
    """``hotel1`` at the hotel, ``camp1`` at the campsite, ``pending1`` at the pending one, and ``boss``
    (admin), ``op1`` (operator), ``min1`` (ministry)."""
    with write_transaction(engine) as connection:
        for name, role, establishment in [
            ("hotel1", "establishment", HOTEL),
            ("camp1", "establishment", CAMPSITE),
            ("pending1", "establishment", PENDING),
            ("boss", "admin", None),
            ("op1", "operator", None),
            ("min1", "ministry", None),
        ]:
            connection.execute(
                staff_users.insert().values(
                    username=name,
                    password_hash=password_hash,
                    role=role,
                    centre_id=None,
                    establishment_id=establishment,
                    disabled=False,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
