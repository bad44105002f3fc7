"""Erasing a campaign that never went out: its pieces, codes and their events.

The ledger is append-only for everything that happened to letters in the world. A campaign none of whose
letters was printed never touched the world: deleting it (a mis-created campaign, a wrong cohort) removes
its pieces, codes and events in the caller's transaction and appends one ``campaign.deleted`` event,
kept, with what was removed. The caller checks first that nothing was printed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Connection, delete, or_, select

from courrier.db.schema import code_uses, codes, events, pieces
from courrier.ledger.events import record_event


def erase_campaign_letters(
    connection: Connection,
    campaign_id: int,
    *,
    actor: str,
    at: dt.datetime,
    details: Mapping[str, object],
) -> None:
    """Delete the campaign's code uses, events, pieces and codes; record ``campaign.deleted``."""
    campaign_codes = select(codes.c.id).where(codes.c.campaign_id == campaign_id)
    campaign_pieces = select(pieces.c.id).where(pieces.c.campaign_id == campaign_id)
    connection.execute(delete(code_uses).where(code_uses.c.code_id.in_(campaign_codes)))
    connection.execute(
        delete(events).where(
            or_(
                events.c.campaign_id == campaign_id,
                events.c.piece_id.in_(campaign_pieces),
                events.c.code_id.in_(campaign_codes),
            )
        )
    )
    # A re-issued piece points at the piece it replaces: no order of deletion satisfies both.
    connection.execute(pieces.update().where(pieces.c.campaign_id == campaign_id).values(reissue_of=None))
    connection.execute(delete(pieces).where(pieces.c.campaign_id == campaign_id))
    connection.execute(delete(codes).where(codes.c.campaign_id == campaign_id))
    # Kept, without the campaign it names (gone): who deleted what, when.
    record_event(connection, "campaign.deleted", actor, details=details, at=at)
