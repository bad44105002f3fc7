"""The life of a piece (one envelope), and the only way to change it.

::

    planned ──► composed ──► printed ──► inserted ──► posted ──► returned
       │  ▲        │  ▲         │
       │  └ failed │  │         ├──► diverted ─┐
       │           │  │         ├──► damaged  ─┼─► composed again (in a reprint job)
       │           │  │         └──► missing  ─┘
       ▼           ▼  └──── printed but never reported: reprinted too
    withdrawn   withdrawn

``reissued`` ends any piece that a new piece replaces (a re-issue); ``withdrawn`` ends a piece that is no
longer to be sent. A piece that was inserted can never go back to ``composed``: a letter already in an
envelope is never printed twice.

Each change is applied in the caller's transaction together with one ``piece.<state>`` event per piece,
so a crash leaves either both or neither. Pieces whose current state does not allow the change are
returned untouched, with their state, for the caller to report.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from courrier.db.bulk import bulk_insert, select_where_in, update_where_in
from courrier.db.schema import events, pieces

ALLOWED: dict[str, frozenset[str]] = {
    "planned": frozenset({"composed", "failed", "withdrawn", "reissued"}),
    "failed": frozenset({"composed", "failed", "withdrawn", "reissued"}),
    "composed": frozenset({"printed", "withdrawn", "reissued"}),
    "printed": frozenset({"inserted", "diverted", "damaged", "missing", "composed", "reissued"}),
    "diverted": frozenset({"composed", "withdrawn", "reissued"}),
    "damaged": frozenset({"composed", "withdrawn", "reissued"}),
    "missing": frozenset({"composed", "withdrawn", "reissued"}),
    "inserted": frozenset({"posted"}),
    "posted": frozenset({"returned", "reissued"}),
    "returned": frozenset({"reissued"}),
    "reissued": frozenset(),
    "withdrawn": frozenset(),
}
STATES = tuple(ALLOWED)
# The states in which a piece has not (yet) reached its envelope: what a reprint takes.
NOT_INSERTED = ("printed", "diverted", "damaged", "missing")


def can_move(from_state: str, to_state: str) -> bool:
    return to_state in ALLOWED.get(from_state, frozenset())


def move_pieces(
    connection: Connection,
    piece_ids: Sequence[int],
    to_state: str,
    *,
    actor: str,
    at: dt.datetime,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> dict[int, str]:
    """Move ``piece_ids`` to ``to_state``; returns {piece id: current state} of those that may not move
    (``unknown`` for an id that is no piece)."""
    if to_state not in ALLOWED:
        raise ValueError(f"unknown piece state {to_state!r}")
    current = {
        int(piece_id): (str(state), int(campaign_id))
        for piece_id, state, campaign_id in select_where_in(
            connection, [pieces.c.id, pieces.c.state, pieces.c.campaign_id], pieces.c.id, list(piece_ids)
        )
    }
    refused = {piece_id: "unknown" for piece_id in piece_ids if piece_id not in current}
    movable: list[int] = []
    for piece_id in dict.fromkeys(piece_ids):
        if piece_id in current:
            if can_move(current[piece_id][0], to_state):
                movable.append(piece_id)
            else:
                refused[piece_id] = current[piece_id][0]
    update_where_in(connection, pieces, pieces.c.id, movable, {"state": to_state, "updated_at": at})
    bulk_insert(
        connection,
        events,
        [
            {
                "piece_id": piece_id,
                "campaign_id": current[piece_id][1],
                "details": json.dumps({"from": current[piece_id][0], **(details or {})}, sort_keys=True),
            }
            for piece_id in movable
        ],
        constants={"at": at, "actor": actor, "type": f"piece.{to_state}", "reason": reason, "code_id": None},
    )
    return refused


def piece_states(connection: Connection, piece_ids: Sequence[int]) -> dict[int, str]:
    rows = select_where_in(connection, [pieces.c.id, pieces.c.state], pieces.c.id, list(piece_ids))
    return {int(piece_id): str(state) for piece_id, state in rows}
