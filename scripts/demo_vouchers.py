"""`make demo`'s voucher step: the hotel's front desk redeems a few vouchers through the running
server's HTTP API, as its page does (the QR content of the first letters of wave 1), and the campsite is
told that one of them was redeemed already. Standard library and courrier only."""

from __future__ import annotations

import datetime as dt
import sys

# The booking demo's JSON call (this script's folder is on sys.path when run as scripts/demo_vouchers.py).
from demo_booking import call
from sqlalchemy import select

from courrier.campaigns.store import get_campaign
from courrier.codes.keys import load_keys
from courrier.codes.sealing import reveal_code
from courrier.codes.store import qr_content
from courrier.config import load_settings
from courrier.db import make_engine
from courrier.db.schema import codes

PASSWORD = "demo-establishment-password"


def first_vouchers(count: int) -> list[str]:
    """What the QR codes of the campaign's first ``count`` vouchers hold."""
    settings = load_settings()
    keys = load_keys(settings.key_file, settings.keys_json)
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        campaign = get_campaign(connection, "hotel-voucher")
        rows = connection.execute(
            select(codes).where(codes.c.campaign_id == campaign.id).order_by(codes.c.id).limit(count)
        ).all()
    engine.dispose()
    return [
        qr_content(
            campaign,
            reveal_code(keys, row.ciphertext),
            keys=keys,
            code_id=row.id,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
        )
        for row in rows
    ]


def main(base: str) -> None:
    hotel = call(base, "POST", "/api/v1/staff/sessions", {"username": "parc-desk", "password": PASSWORD})[
        "token"
    ]
    camp = call(base, "POST", "/api/v1/staff/sessions", {"username": "sure-desk", "password": PASSWORD})[
        "token"
    ]
    today = dt.date.today()
    stay = {"stay_from": today.isoformat(), "stay_to": (today + dt.timedelta(days=1)).isoformat()}
    scanned = first_vouchers(3)
    for number, qr in enumerate(scanned, 1):
        preview = call(base, "POST", "/api/v1/redemptions/preview", {"scan": qr}, hotel)
        answer = call(
            base,
            "POST",
            "/api/v1/redemptions?lang=en",
            {"scan": qr, **stay, "reference": f"PARC-{number:03d}", "nonce": f"demo-{number}"},
            hotel,
        )
        print(
            f"voucher of {preview['voucher']['name']}: {answer['status']}, {answer['amount']} EUR to deduct"
        )
    again = call(
        base,
        "POST",
        "/api/v1/redemptions?lang=en",
        {"scan": scanned[0], **stay, "reference": "SURE-1", "nonce": "demo-camp-1"},
        camp,
    )
    print(f"the campsite scans the first voucher again: {again['status']}, {again['reason']['message']}")
    listed = call(base, "GET", "/api/v1/redemptions", token=hotel)["redemptions"]
    total = sum(redemption["amount_cents"] for redemption in listed) / 100
    print(f"the hotel's own list: {len(listed)} redemptions, {total:.2f} EUR")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765")
