"""The life of a piece (one envelope): the allowed transitions, written once, and the only way to
change a piece's state.

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
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from courrier.db.bulk import select_where_in, update_where_in
from courrier.db.schema import pieces
from courrier.ledger.events import record_event, record_piece_events

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
# The state of a piece when it is created (planned in a wave, or added by a re-issue).
NEW_PIECE: Mapping[str, str] = {"state": "planned"}
# The states in which a piece has not (yet) reached its envelope: what a reprint takes.
NOT_INSERTED = ("printed", "diverted", "damaged", "missing")
# The states a re-issue may end: not a letter sitting in an envelope that has not been posted yet, nor a
# piece already ended.
REISSUABLE = frozenset(state for state, targets in ALLOWED.items() if "reissued" in targets)
# The error code that refuses a re-issue, by the piece's state.
REISSUE_REFUSALS: Mapping[str, str] = {
    "inserted": "piece_inserted",
    "reissued": "piece_reissued",
    "withdrawn": "piece_withdrawn",
}


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
    record_piece_events(
        connection,
        f"piece.{to_state}",
        actor,
        [(piece_id, current[piece_id][1], {"from": current[piece_id][0]}) for piece_id in movable],
        at=at,
        reason=reason,
    )
    return refused


def move_piece(
    connection: Connection,
    piece_id: int,
    from_state: str,
    to_state: str,
    *,
    campaign_id: int,
    code_id: int | None,
    actor: str,
    at: dt.datetime,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> bool:
    """Move one piece the caller read in ``from_state`` to ``to_state``, with its event.

    The update is guarded by the state the caller read, so of two transactions that move the same
    piece at once only one does: False for the other (and for a move the lifecycle does not allow).
    """
    if not can_move(from_state, to_state):
        return False
    moved = connection.execute(
        pieces.update()
        .where(pieces.c.id == piece_id, pieces.c.state == from_state)
        .values(state=to_state, updated_at=at)
    ).rowcount
    if moved != 1:
        return False
    record_event(
        connection,
        f"piece.{to_state}",
        actor,
        campaign_id=campaign_id,
        piece_id=piece_id,
        code_id=code_id,
        reason=reason,
        details={"from": from_state, **(details or {})},
        at=at,
    )
    return True


def piece_states(connection: Connection, piece_ids: Sequence[int]) -> dict[int, str]:
    rows = select_where_in(connection, [pieces.c.id, pieces.c.state], pieces.c.id, list(piece_ids))
    return {int(piece_id): str(state) for piece_id, state in rows}
