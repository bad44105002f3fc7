"""The waiting list in planning: people who missed their phase, put into a later wave first come first
served (``courrier campaign plan``). The requests are made through ``booking.requests``.

Each waiting request of the campaign, oldest first, is either planned or refused (the print shop sees
why in ``courrier requests list``; the person was only ever told "received"):

- ``no_match``: no one in the register has that matricule, birth date and postcode;
- ``not_eligible``: the person is not in the campaign's cohort, died, or has no known address;
- ``already_planned``: their letter is planned and not yet printed;
- ``code_still_valid``: their code can still book (no need for a new letter);
- ``code_used``: their code was used as many times as it may be.

Otherwise (no piece of the campaign yet, or the latest one's code expired or was revoked) the person
gets a new piece, with its own code when codes are issued, in the next new wave; the request becomes
``planned`` with the piece and its wave.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from courrier.campaigns import cohort as cohorts
from courrier.campaigns.store import Campaign
from courrier.db.schema import codes, letter_requests, persons, pieces, waves
from courrier.ledger.codes import effective_status

# A letter in these states may still be printed: a second one would be two letters.
NOT_YET_PRINTED = frozenset({"planned", "failed", "composed"})


@dataclass(frozen=True)
class WaitingEntry:
    request_id: int
    person_id: int
    reissue_number: int
    reissue_of: int | None


def waiting_entries(
    connection: Connection, campaign: Campaign, actor: str, now: dt.datetime
) -> list[WaitingEntry]:
    """The waiting requests to plan, oldest first; the others are refused here with their reason."""
    rows = connection.execute(
        select(letter_requests.c.id, letter_requests.c.person_id)
        .where(
            letter_requests.c.campaign_id == campaign.id,
            letter_requests.c.kind == "waiting_list",
            letter_requests.c.state == "waiting",
        )
        .order_by(letter_requests.c.created_at, letter_requests.c.id)
    ).all()
    entries: list[WaitingEntry] = []
    seen: set[int] = set()
    for row in rows:
        reason, entry = _judge(connection, campaign, row.id, row.person_id, now)
        if entry is not None and entry.person_id in seen:
            reason, entry = "already_planned", None
        if entry is None:
            connection.execute(
                letter_requests.update()
                .where(letter_requests.c.id == row.id)
                .values(state="refused", outcome=reason, decided_at=now, decided_by=actor)
            )
            continue
        seen.add(entry.person_id)
        entries.append(entry)
    return entries


def _judge(
    connection: Connection, campaign: Campaign, request_id: int, person_id: int | None, now: dt.datetime
) -> tuple[str, WaitingEntry | None]:
    if person_id is None:
        return "no_match", None
    eligible = connection.execute(
        select(persons.c.id).where(persons.c.id == person_id, cohorts.eligible(campaign.definition.cohort))
    ).first()
    if eligible is None:
        return "not_eligible", None
    latest = connection.execute(
        select(pieces.c.id, pieces.c.code_id, pieces.c.state)
        .where(pieces.c.campaign_id == campaign.id, pieces.c.person_id == person_id)
        .order_by(pieces.c.reissue_number.desc())
        .limit(1)
    ).one_or_none()
    if latest is None:
        return "", WaitingEntry(request_id, person_id, 0, None)
    if latest.code_id is None or latest.state in NOT_YET_PRINTED:
        return "already_planned", None
    code = connection.execute(select(codes).where(codes.c.id == latest.code_id)).one()
    status = effective_status(code.status, code.uses, code.max_uses, code.valid_until, now.date())
    if status == "active":
        return "code_still_valid", None
    if status == "used_up":
        return "code_used", None
    number = connection.execute(
        select(func.max(pieces.c.reissue_number)).where(
            pieces.c.campaign_id == campaign.id, pieces.c.person_id == person_id
        )
    ).scalar_one()
    return "", WaitingEntry(request_id, person_id, int(number) + 1, latest.id)


def mark_planned(
    connection: Connection, campaign: Campaign, entries: list[WaitingEntry], actor: str, now: dt.datetime
) -> None:
    """Record each planned request's piece and wave."""
    for entry in entries:
        piece = connection.execute(
            select(pieces.c.id, waves.c.number)
            .join(waves, waves.c.id == pieces.c.wave_id)
            .where(
                pieces.c.campaign_id == campaign.id,
                pieces.c.person_id == entry.person_id,
                pieces.c.reissue_number == entry.reissue_number,
            )
        ).one()
        connection.execute(
            letter_requests.update()
            .where(letter_requests.c.id == entry.request_id)
            .values(
                state="planned",
                piece_id=piece.id,
                outcome=f"planned in wave {piece.number}",
                decided_at=now,
                decided_by=actor,
            )
        )
