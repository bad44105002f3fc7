"""A campaign's booking rules (``booking_policies``), with the reference case's defaults.

Without a row: doses = the code's uses up to 2, dose 2 from 21 to 42 days after dose 1, and dose 2 may be
booked after the code's validity (the same code books the second dose). ``courrier campaign
booking-policy`` sets them (:func:`set_booking_policy`). The health questions are in the campaign file
(``booking.questions``); the table's ``questions`` column is kept empty.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import Connection, select

from courrier.db.schema import booking_policies, campaigns
from courrier.errors import ConflictError
from courrier.ledger.events import record_event

MAX_DOSE2_DAYS = 365


@dataclass(frozen=True)
class BookingPolicy:
    doses: int
    dose2_min_days: int
    dose2_max_days: int
    # Whether dose 2 may still be booked once the code's two weeks are over.
    dose2_after_expiry: bool
    questions: tuple[dict[str, object], ...] = ()

    def may_book(self, code_status: str, dose: int) -> bool:
        """Whether a code in ``code_status`` (``ledger.codes.effective_status``) may book or move ``dose``:
        an active code any dose; once its validity is over (expired, or used up), dose 2 when the
        campaign allows it after expiry; a revoked code nothing. Bookings, code entry and the pages all ask
        this one rule."""
        if code_status == "active":
            return True
        return code_status != "revoked" and dose == 2 and self.doses >= 2 and self.dose2_after_expiry

    def to_json(self) -> dict[str, object]:
        facts = asdict(self)
        del facts["questions"]
        return facts


def booking_policy(connection: Connection, campaign_id: int) -> BookingPolicy:
    row = connection.execute(
        select(booking_policies).where(booking_policies.c.campaign_id == campaign_id)
    ).one_or_none()
    if row is not None:
        return policy_from(row, 0)
    max_uses = connection.execute(
        select(campaigns.c.max_uses).where(campaigns.c.id == campaign_id)
    ).scalar_one()
    return policy_from(None, int(max_uses))


def policy_from(row: Any, campaign_max_uses: int) -> BookingPolicy:
    """The policy of a ``booking_policies`` row (``doses``, ``dose2_min_days``, ``dose2_max_days``,
    ``dose2_after_expiry``, ``questions``; ``None``, or a row of NULLs, when the campaign has none), else
    the defaults for a campaign whose codes have ``campaign_max_uses`` uses."""
    if row is not None and row.doses is not None:
        return BookingPolicy(
            row.doses,
            row.dose2_min_days,
            row.dose2_max_days,
            row.dose2_after_expiry,
            tuple(json.loads(row.questions)),
        )
    # The reference case: dose 2 from 21 to 42 days after dose 1, bookable with the same code later.
    return BookingPolicy(
        doses=min(campaign_max_uses, 2), dose2_min_days=21, dose2_max_days=42, dose2_after_expiry=True
    )


def set_booking_policy(
    connection: Connection,
    campaign_id: int,
    *,
    actor: str,
    now: dt.datetime,
    doses: int | None = None,
    dose2_min_days: int | None = None,
    dose2_max_days: int | None = None,
    dose2_after_expiry: bool | None = None,
) -> BookingPolicy:
    """Change the given rules of the campaign (the others keep their value) with a
    ``campaign.booking_policy`` event; refused (``bad_booking_policy``, naming the rule) unless
    1 ≤ doses ≤ 2 and 0 ≤ dose2_min_days ≤ dose2_max_days ≤ 365. Bookings already made are kept."""
    current = booking_policy(connection, campaign_id)
    changes = {
        name: value
        for name, value in (
            ("doses", doses),
            ("dose2_min_days", dose2_min_days),
            ("dose2_max_days", dose2_max_days),
            ("dose2_after_expiry", dose2_after_expiry),
        )
        if value is not None
    }
    policy = replace(current, **changes)  # type: ignore[arg-type]
    if not 1 <= policy.doses <= 2:
        raise ConflictError(f"doses: 1 or 2, got {policy.doses}", code="bad_booking_policy", rule="doses")
    if not 0 <= policy.dose2_min_days <= MAX_DOSE2_DAYS:
        raise ConflictError(
            f"dose 2 from: 0 to {MAX_DOSE2_DAYS} days after dose 1, got {policy.dose2_min_days}",
            code="bad_booking_policy",
            rule="dose2_min_days",
        )
    if not policy.dose2_min_days <= policy.dose2_max_days <= MAX_DOSE2_DAYS:
        raise ConflictError(
            f"dose 2 to: {policy.dose2_min_days} (the first day) to {MAX_DOSE2_DAYS} days after dose 1,"
            f" got {policy.dose2_max_days}",
            code="bad_booking_policy",
            rule="dose2_max_days",
        )
    values = {
        "doses": policy.doses,
        "dose2_min_days": policy.dose2_min_days,
        "dose2_max_days": policy.dose2_max_days,
        "dose2_after_expiry": policy.dose2_after_expiry,
        "questions": json.dumps(list(policy.questions)),
        "updated_at": now,
    }
    updated = connection.execute(
        booking_policies.update().where(booking_policies.c.campaign_id == campaign_id).values(**values)
    ).rowcount
    if not updated:
        connection.execute(booking_policies.insert().values(campaign_id=campaign_id, **values))
    record_event(
        connection,
        "campaign.booking_policy",
        actor,
        campaign_id=campaign_id,
        details={"before": current.to_json(), "after": policy.to_json()},
        at=now,
    )
    return policy
