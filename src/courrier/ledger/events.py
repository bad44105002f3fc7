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
from courrier.db.prepared import Prepared
from courrier.db.schema import events
from courrier.db.types import utcnow

# Built once and sent straight to the driver (db.prepared): a check-in appends one event, a redemption two,
# and SQLAlchemy's execution of the statement cost more than the database's own work.
_INSERT = Prepared(events.insert().returning(events.c.id))


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
    found = _INSERT.scalar(
        connection,
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
    assert found is not None, "INSERT … RETURNING gives the new row's id"
    return int(found)


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
