"""The event log: one row for every issue, re-issue, revocation, extension, withdrawal...

Callers append the event in the same transaction as the change it records, so the log and the state
never disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from courrier.db.bulk import bulk_insert
from courrier.db.schema import events
from courrier.db.types import utcnow

# Built once: the statement with its parameters bound per call, so SQLAlchemy compiles it once (a check-in
# or a booking appends one event each; building ``insert().values(...)`` every time cost more than the
# database's own work).
_INSERT = events.insert()


def record_event(
    connection: Connection,
    type: str,
    actor: str,
    *,
    campaign_id: int | None = None,
    piece_id: int | None = None,
    code_id: int | None = None,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one event (``type`` is dotted, e.g. ``code.revoked``); returns its id."""
    result = connection.execute(
        _INSERT,
        {
            "at": at or utcnow(),
            "actor": actor,
            "type": type,
            "campaign_id": campaign_id,
            "piece_id": piece_id,
            "code_id": code_id,
            "reason": reason,
            "details": _details(details),
        },
    )
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def record_piece_events(
    connection: Connection,
    type: str,
    actor: str,
    pieces: Sequence[tuple[int, int, Mapping[str, Any]]],
    *,
    at: datetime,
    reason: str | None = None,
) -> None:
    """Append one event of ``type`` for each (piece id, campaign id, details), in one statement."""
    bulk_insert(
        connection,
        events,
        [
            {"piece_id": piece_id, "campaign_id": campaign_id, "details": _details(details)}
            for piece_id, campaign_id, details in pieces
        ],
        constants={"at": at, "actor": actor, "type": type, "reason": reason, "code_id": None},
    )


def _details(details: Mapping[str, Any] | None) -> str | None:
    return json.dumps(details, sort_keys=True, default=str) if details is not None else None
