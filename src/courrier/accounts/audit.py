"""The audit log: every view or change of personal data by staff."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from courrier.accounts.users import StaffUser
from courrier.db.prepared import Prepared
from courrier.db.schema import audit_log


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    username: str
    role: str
    action: str
    subject: str
    details: dict[str, Any]

    def to_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat(),
            "username": self.username,
            "role": self.role,
            "action": self.action,
            "subject": self.subject,
            "details": self.details,
        }


# Built once and sent through the driver's cursor (a check-in or a redemption audits what it shows).
_INSERT = Prepared(audit_log.insert())


def audit(
    connection: Connection,
    user: StaffUser,
    action: str,
    subject: str,
    *,
    now: dt.datetime,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Record that ``user`` did ``action`` (dotted, e.g. ``code.viewed``) on ``subject`` (e.g.
    ``person:123``), in the caller's transaction so that nothing is seen without being logged."""
    _INSERT.rowcount(
        connection,
        {
            "at": now,
            "username": user.username,
            "role": user.role,
            "action": action,
            "subject": subject,
            "details": json.dumps(dict(details), sort_keys=True) if details else None,
        },
    )


def list_audit(
    connection: Connection,
    *,
    username: str | None = None,
    limit: int | None = 100,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[AuditEntry]:
    """The log, newest first: by one user, one action (``code.viewed``; a prefix ending in a dot,
    ``booking.``, takes all of its kind), from ``since`` (included) to ``until`` (excluded)."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if username is not None:
        query = query.where(audit_log.c.username == username)
    if action is not None:
        prefix = action.endswith(".")
        query = query.where(
            audit_log.c.action.startswith(action, autoescape=True) if prefix else audit_log.c.action == action
        )
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    return [
        AuditEntry(
            at=row.at,
            username=row.username,
            role=row.role,
            action=row.action,
            subject=row.subject,
            details=json.loads(row.details) if row.details else {},
        )
        for row in connection.execute(query)
    ]


def audit_actions(connection: Connection) -> list[str]:
    """The actions the log holds, for a filter's choices."""
    return list(
        connection.execute(select(audit_log.c.action).distinct().order_by(audit_log.c.action)).scalars()
    )
