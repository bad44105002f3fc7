"""A campaign's booking rules (``booking_policies``), with the reference case's defaults."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, select

from courrier.db.schema import booking_policies, campaigns


@dataclass(frozen=True)
class BookingPolicy:
    doses: int
    dose2_min_days: int
    dose2_max_days: int
    # Whether dose 2 may still be booked once the code's two weeks are over.
    dose2_after_expiry: bool
    questions: tuple[dict[str, object], ...] = ()


def booking_policy(connection: Connection, campaign_id: int) -> BookingPolicy:
    row = connection.execute(
        select(booking_policies).where(booking_policies.c.campaign_id == campaign_id)
    ).one_or_none()
    if row is not None:
        return BookingPolicy(
            row.doses,
            row.dose2_min_days,
            row.dose2_max_days,
            row.dose2_after_expiry,
            tuple(json.loads(row.questions)),
        )
    max_uses = connection.execute(
        select(campaigns.c.max_uses).where(campaigns.c.id == campaign_id)
    ).scalar_one()
    # The reference case: dose 2 from 21 to 42 days after dose 1, bookable with the same code later.
    return BookingPolicy(
        doses=min(int(max_uses), 2), dose2_min_days=21, dose2_max_days=42, dose2_after_expiry=True
    )
