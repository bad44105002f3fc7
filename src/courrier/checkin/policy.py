"""A campaign's check-in rules (``checkin_policies``): how early before its slot and how late after it a
person may check in, and whether people without a booking are taken (walk-ins).

Without a row: from 30 minutes before the slot to 60 minutes after its end, no walk-ins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, bindparam, select

from courrier.db.schema import checkin_policies
from courrier.errors import ConflictError
from courrier.ledger.events import record_event
from courrier.result import Result

MAX_TOLERANCE_MINUTES = 24 * 60


@dataclass(frozen=True)
class CheckinPolicy(Result):
    early_minutes: int = 30
    late_minutes: int = 60
    walk_ins: bool = False


DEFAULT = CheckinPolicy()


# Built once: a statement SQLAlchemy has seen before costs only its cache lookup (every check-in reads it).
_POLICY = select(
    checkin_policies.c.early_minutes, checkin_policies.c.late_minutes, checkin_policies.c.walk_ins
).where(checkin_policies.c.campaign_id == bindparam("campaign"))


def checkin_policy(connection: Connection, campaign_id: int) -> CheckinPolicy:
    row = connection.execute(_POLICY, {"campaign": campaign_id}).one_or_none()
    return policy_from(row)


def policy_from(row: Any) -> CheckinPolicy:
    """The policy from a row holding the ``checkin_policies`` columns of ``_POLICY`` (all NULL, from an
    outer join, when the campaign has none)."""
    if row is None or row.early_minutes is None:
        return DEFAULT
    return CheckinPolicy(row.early_minutes, row.late_minutes, row.walk_ins)


def set_checkin_policy(
    connection: Connection,
    campaign_id: int,
    *,
    actor: str,
    now: dt.datetime,
    early_minutes: int | None = None,
    late_minutes: int | None = None,
    walk_ins: bool | None = None,
) -> CheckinPolicy:
    """Change the given rules (the others keep their value) with a ``campaign.checkin_policy`` event;
    refused (``bad_checkin_policy``, naming the rule) unless each tolerance is 0 to 1,440 minutes."""
    current = checkin_policy(connection, campaign_id)
    changes = {
        name: value
        for name, value in (
            ("early_minutes", early_minutes),
            ("late_minutes", late_minutes),
            ("walk_ins", walk_ins),
        )
        if value is not None
    }
    policy = replace(current, **changes)  # type: ignore[arg-type]
    for rule in ("early_minutes", "late_minutes"):
        value = getattr(policy, rule)
        if not 0 <= value <= MAX_TOLERANCE_MINUTES:
            raise ConflictError(
                f"{rule}: 0 to {MAX_TOLERANCE_MINUTES} minutes, got {value}",
                code="bad_checkin_policy",
                rule=rule,
            )
    values = {**policy.to_json(), "updated_at": now}
    updated = connection.execute(
        checkin_policies.update().where(checkin_policies.c.campaign_id == campaign_id).values(**values)
    ).rowcount
    if not updated:
        connection.execute(checkin_policies.insert().values(campaign_id=campaign_id, **values))
    record_event(
        connection,
        "campaign.checkin_policy",
        actor,
        campaign_id=campaign_id,
        details={"before": current.to_json(), "after": policy.to_json()},
        at=now,
    )
    return policy
