"""Revoking a code: the one way, shared by re-issue, withdrawal from a wave and ``codes revoke``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select

from courrier.campaigns.events import record_event
from courrier.db.schema import codes


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
