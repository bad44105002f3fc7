from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from courrier.db.schema import events
from courrier.ledger.events import record_event


def test_events_record_who_what_why_and_when(engine):
    at = dt.datetime(2021, 3, 1, 9, 30, tzinfo=dt.UTC)
    with engine.begin() as connection:
        event_id = record_event(
            connection, "campaign.noted", "alice", reason="testing", details={"count": 3}, at=at
        )
    with engine.connect() as connection:
        row = connection.execute(select(events).where(events.c.id == event_id)).one()
    assert (row.type, row.actor, row.reason, row.at) == ("campaign.noted", "alice", "testing", at)
    assert json.loads(row.details) == {"count": 3}
