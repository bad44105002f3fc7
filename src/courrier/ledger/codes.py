"""Code uses and revocations: the only writers of ``codes.uses`` and ``codes.status``.

Statuses: ``active``, ``used_up`` (uses reached max_uses), ``expired`` (past valid_until; computed on
read, since extending a campaign brings a code back), ``revoked`` (final).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Connection, and_, case, or_, select

from courrier.db.schema import codes
from courrier.ledger.events import record_event

# The columns of a code when it is issued.
NEW_CODE: Mapping[str, object] = {"status": "active", "uses": 0}


def effective_status(
    stored: str, uses: int, max_uses: int, valid_until: dt.date | None, today: dt.date
) -> str:
    if stored == "revoked":
        return "revoked"
    if stored == "used_up" or uses >= max_uses:
        return "used_up"
    if valid_until is not None and today > valid_until:
        return "expired"
    return "active"


def count_use(
    connection: Connection,
    code_id: int,
    *,
    actor: str,
    now: dt.datetime,
    piece_id: int | None = None,
) -> bool:
    """Count one use of a code if it is usable now, with a ``code.used`` event; False if it is not.

    The check and the write are one conditional UPDATE, so two simultaneous uses of a one-use code
    cannot both succeed.
    """
    today = now.date()
    usable = and_(
        codes.c.id == code_id,
        codes.c.status == "active",
        codes.c.uses < codes.c.max_uses,
        or_(codes.c.valid_until.is_(None), codes.c.valid_until >= today),
    )
    counted = connection.execute(
        codes.update()
        .where(usable)
        .values(
            uses=codes.c.uses + 1,
            status=case((codes.c.uses + 1 >= codes.c.max_uses, "used_up"), else_=codes.c.status),
            updated_at=now,
        )
    ).rowcount
    if counted != 1:
        return False
    row = connection.execute(
        select(codes.c.campaign_id, codes.c.uses, codes.c.max_uses).where(codes.c.id == code_id)
    ).one()
    record_event(
        connection,
        "code.used",
        actor,
        campaign_id=row.campaign_id,
        piece_id=piece_id,
        code_id=code_id,
        details={"use": row.uses, "max_uses": row.max_uses},
        at=now,
    )
    return True


def revoke_code(
    connection: Connection,
    code_id: int,
    *,
    actor: str,
    reason: str | None,
    now: dt.datetime,
    piece_id: int | None = None,
) -> bool:
    """Revoke a code for good (False if it already was), with a ``code.revoked`` event."""
    row = connection.execute(select(codes.c.campaign_id, codes.c.status).where(codes.c.id == code_id)).one()
    if row.status == "revoked":
        return False
    connection.execute(codes.update().where(codes.c.id == code_id).values(status="revoked", updated_at=now))
    record_event(
        connection,
        "code.revoked",
        actor,
        campaign_id=row.campaign_id,
        piece_id=piece_id,
        code_id=code_id,
        reason=reason,
        at=now,
    )
    return True
