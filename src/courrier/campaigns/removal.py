"""Renaming and deleting a mis-created campaign, allowed only while none of its letters went out.

Once a letter was printed, the campaign's name is on its job tickets and its print folder, and its
pieces, codes and events are the record of what people received: such a campaign is never renamed or
deleted (``campaign_printed``). Before that, a wrong name or a wrong cohort is fixed by renaming or
deleting it; deleting removes every row of the campaign and leaves one ``campaign.deleted`` event. Print
files already composed are not touched (the command says where they are): delete them by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, select

from courrier.campaigns.definition import _NAME_CHARACTERS
from courrier.campaigns.store import campaign_id
from courrier.db.schema import (
    booking_policies,
    bookings,
    campaigns,
    code_uses,
    codes,
    inserter_results,
    job_pieces,
    letter_requests,
    pieces,
    print_jobs,
    slots,
    template_versions,
    waves,
)
from courrier.errors import ConflictError, InputFileError
from courrier.ledger.erase import erase_campaign_letters
from courrier.ledger.events import record_event

# A piece in one of these states was printed: its letter exists outside the database.
_PRINTED = ("printed", "inserted", "posted", "returned", "diverted", "damaged", "missing")
_NAME_LINE = re.compile(r'^(\s*name\s*=\s*)(["\']).*?\2', re.MULTILINE)


@dataclass(frozen=True)
class Deleted:
    name: str
    waves: int
    pieces: int
    codes: int
    jobs: int
    folders: tuple[str, ...]


def require_nothing_printed(connection: Connection, found_id: int, name: str, doing: str) -> None:
    """``campaign_printed`` when a letter of the campaign was printed, a code used or booked, or a
    re-send requested: after that the campaign is part of what happened."""
    printed = connection.execute(
        select(func.count()).where(pieces.c.campaign_id == found_id, pieces.c.state.in_(_PRINTED))
    ).scalar_one()
    jobs = connection.execute(
        select(func.count()).where(
            print_jobs.c.campaign_id == found_id, print_jobs.c.state.in_(("printed", "inserted", "posted"))
        )
    ).scalar_one()
    used = connection.execute(
        select(func.count())
        .select_from(code_uses)
        .join(codes, codes.c.id == code_uses.c.code_id)
        .where(codes.c.campaign_id == found_id)
    ).scalar_one()
    booked = connection.execute(select(func.count()).where(bookings.c.campaign_id == found_id)).scalar_one()
    requested = connection.execute(
        select(func.count()).where(letter_requests.c.campaign_id == found_id)
    ).scalar_one()
    if printed or jobs or used or booked or requested:
        what = (
            f"{printed} letter(s) printed"
            if printed or jobs
            else f"{used} code use(s), {booked} booking(s), {requested} request(s)"
        )
        raise ConflictError(
            f"campaign {name} cannot be {doing}: {what}; what went out stays on record",
            code="campaign_printed",
            campaign=name,
        )


def rename_campaign(connection: Connection, name: str, new_name: str, *, actor: str, at: dt.datetime) -> None:
    """Give the campaign ``new_name`` (its stored definition too); its print folder stays where it is."""
    if not new_name or set(new_name) - _NAME_CHARACTERS or len(new_name) > 100:
        raise InputFileError(
            f"{new_name!r}: a campaign name uses lower-case letters, digits, '-' and '_' (at most 100)",
            code="bad_campaign_name",
        )
    found_id = campaign_id(connection, name)
    if connection.execute(select(campaigns.c.id).where(campaigns.c.name == new_name)).first():
        raise ConflictError(f"a campaign named {new_name!r} already exists", code="campaign_exists")
    require_nothing_printed(connection, found_id, name, "renamed")
    text = connection.execute(select(campaigns.c.definition).where(campaigns.c.id == found_id)).scalar_one()
    renamed = _NAME_LINE.sub(lambda match: f'{match[1]}"{new_name}"', text, count=1)
    connection.execute(
        campaigns.update().where(campaigns.c.id == found_id).values(name=new_name, definition=renamed)
    )
    record_event(
        connection,
        "campaign.renamed",
        actor,
        campaign_id=found_id,
        details={"from": name, "to": new_name},
        at=at,
    )


def delete_campaign(connection: Connection, name: str, *, actor: str, at: dt.datetime) -> Deleted:
    """Delete the campaign and everything of it (refused once a letter was printed)."""
    found_id = campaign_id(connection, name)
    require_nothing_printed(connection, found_id, name, "deleted")

    def count(column: Any) -> int:
        return int(connection.execute(select(func.count()).where(column == found_id)).scalar_one())

    job_ids = select(print_jobs.c.id).where(print_jobs.c.campaign_id == found_id)
    folders = tuple(
        sorted(
            {
                str(folder)
                for folder in connection.execute(
                    select(print_jobs.c.folder).where(print_jobs.c.campaign_id == found_id)
                ).scalars()
            }
        )
    )
    deleted = Deleted(
        name=name,
        waves=count(waves.c.campaign_id),
        pieces=count(pieces.c.campaign_id),
        codes=count(codes.c.campaign_id),
        jobs=count(print_jobs.c.campaign_id),
        folders=folders,
    )
    version = connection.execute(
        select(campaigns.c.template_version_id).where(campaigns.c.id == found_id)
    ).scalar_one()
    connection.execute(delete(inserter_results).where(inserter_results.c.job_id.in_(job_ids)))
    connection.execute(delete(job_pieces).where(job_pieces.c.job_id.in_(job_ids)))
    connection.execute(
        print_jobs.update().where(print_jobs.c.campaign_id == found_id).values(reprint_of=None)
    )
    connection.execute(delete(print_jobs).where(print_jobs.c.campaign_id == found_id))
    erase_campaign_letters(
        connection,
        found_id,
        actor=actor,
        at=at,
        details={
            "campaign": name,
            "id": found_id,
            "waves": deleted.waves,
            "pieces": deleted.pieces,
            "codes": deleted.codes,
            "jobs": deleted.jobs,
        },
    )
    connection.execute(delete(slots).where(slots.c.campaign_id == found_id))
    connection.execute(delete(booking_policies).where(booking_policies.c.campaign_id == found_id))
    connection.execute(delete(waves).where(waves.c.campaign_id == found_id))
    connection.execute(delete(campaigns).where(campaigns.c.id == found_id))
    still_used = connection.execute(
        select(campaigns.c.id).where(campaigns.c.template_version_id == version)
    ).first()
    in_jobs = connection.execute(
        select(print_jobs.c.id).where(print_jobs.c.template_version_id == version)
    ).first()
    if still_used is None and in_jobs is None:
        connection.execute(delete(template_versions).where(template_versions.c.id == version))
    return deleted
