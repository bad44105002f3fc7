"""The event log: one row for every issue, re-issue, revocation, extension, withdrawal...

Callers append the event in the same transaction as the change it records, so the log and the state
never disagree.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from courrier.db.schema import events
from courrier.db.types import utcnow


def record_event(
    connection: Connection,
    type: str,
    actor: str,
    *,
    campaign_id: int | None = None,
    piece_id: int | None = None,
    code_id: int | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one event (``type`` is dotted, e.g. ``code.revoked``); returns its id."""
    result = connection.execute(
        events.insert().values(
            at=at or utcnow(),
            actor=actor,
            type=type,
            campaign_id=campaign_id,
            piece_id=piece_id,
            code_id=code_id,
            reason=reason,
            details=json.dumps(details, sort_keys=True, default=str) if details is not None else None,
        )
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])
