"""Planning a campaign: its cohort split into waves of pieces, and planning again later.

Planning is one transaction, so running it again after a crash starts from a clean state. A new plan:

1. withdraws the pieces of waves not yet composed whose person is no longer eligible (died, address
   unknown, moved abroad or otherwise out of the cohort since the last register import), revoking their
   codes if they had any — one ``piece.withdrawn`` event each;
2. puts the campaign's waiting list (people who missed their phase, ``campaigns.waiting_list``), first
   come first served, then everyone eligible who has no piece of this campaign yet (newcomers) into new
   waves, after the existing ones. Nobody gets a second piece by accident: ``pieces`` is unique on
   (campaign, person, re-issue number), a withdrawn person is not planned again (a re-issue does that,
   on purpose), and a waiting-list person gets a new piece only when their code can no longer book.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, Engine, and_, exists, false, func, select, true

from courrier.campaigns import cohort as cohorts
from courrier.campaigns.store import Campaign, get_campaign
from courrier.campaigns.validity import require_valid_period
from courrier.campaigns.waiting_list import WaitingEntry, mark_planned, waiting_entries
from courrier.db import write_transaction
from courrier.db.bulk import bulk_insert
from courrier.db.schema import campaigns, persons, pieces, waves
from courrier.db.types import utcnow
from courrier.errors import ConflictError
from courrier.ledger.codes import revoke_code
from courrier.ledger.events import record_event
from courrier.ledger.pieces import NEW_PIECE, move_piece
from courrier.result import Result

_CHUNK = 10_000


@dataclass
class WaveSummary(Result):
    number: int
    send_date: dt.date | None
    state: str
    size: int
    by_language: dict[str, int] = field(default_factory=dict)
    by_country: dict[str, int] = field(default_factory=dict)


@dataclass
class PlanReport(Result):
    campaign: str
    new_waves: list[int]
    new_pieces: int
    withdrawn: dict[str, int]
    excluded: dict[str, int]
    waves: list[WaveSummary]
    # Of the new pieces, those for the waiting list.
    waiting_list: int = 0


def _require_not_purged(connection: Connection, campaign_id: int, name: str) -> None:
    """A purged campaign's cohort must not come back as new letters (courrier purge)."""
    purged = connection.execute(select(campaigns.c.purged_at).where(campaigns.c.id == campaign_id)).scalar()
    if purged is not None:
        raise ConflictError(
            f"campaign {name}'s personal data was purged on {purged:%Y-%m-%d}: it cannot be planned again",
            code="campaign_purged",
            campaign=name,
        )


def plan_campaign(engine: Engine, name: str, *, actor: str, now: dt.datetime | None = None) -> PlanReport:
    now = now or utcnow()
    with write_transaction(engine) as connection:
        campaign = get_campaign(connection, name)
        _require_not_purged(connection, campaign.id, name)
        _require_known_communes(connection, campaign)
        withdrawn = _withdraw_ineligible(connection, campaign, actor, now)
        waiting = waiting_entries(connection, campaign, actor, now)
        new_waves, new_pieces = _plan_newcomers(connection, campaign, now, waiting)
        mark_planned(connection, campaign, waiting, actor, now)
        if new_pieces or any(withdrawn.values()):
            record_event(
                connection,
                "campaign.planned",
                actor,
                campaign_id=campaign.id,
                details={
                    "new_waves": new_waves,
                    "new_pieces": new_pieces,
                    "withdrawn": withdrawn,
                    "waiting_list": len(waiting),
                },
                at=now,
            )
        return PlanReport(
            campaign=campaign.name,
            new_waves=new_waves,
            new_pieces=new_pieces,
            withdrawn=withdrawn,
            excluded=_exclusions(connection, campaign),
            waves=wave_summaries(connection, campaign.id),
            waiting_list=len(waiting),
        )


def _require_known_communes(connection: Connection, campaign: Campaign) -> None:
    """A commune no one in the register lives in is a typo, not an empty cohort (``unknown_commune``)."""
    wanted = campaign.definition.cohort.communes
    if not wanted:
        return
    known = set(
        connection.execute(
            select(persons.c.commune).where(persons.c.commune.in_(wanted)).distinct()
        ).scalars()
    )
    unknown = [commune for commune in wanted if commune not in known]
    if unknown:
        raise ConflictError(
            f"campaign {campaign.name}: [cohort] communes: no one in the register lives in {unknown[0]!r}"
            " (communes are spelled as in the register, e.g. 'Esch-sur-Alzette')",
            code="unknown_commune",
        )


def _withdraw_ineligible(
    connection: Connection, campaign: Campaign, actor: str, now: dt.datetime
) -> dict[str, int]:
    cohort = campaign.definition.cohort
    rows = connection.execute(
        select(pieces.c.id, pieces.c.code_id, cohorts.exclusion_reason(cohort).label("reason"))
        .join(persons, persons.c.id == pieces.c.person_id)
        .join(waves, waves.c.id == pieces.c.wave_id)
        .where(
            pieces.c.campaign_id == campaign.id,
            pieces.c.state == "planned",
            waves.c.state == "planned",
            cohorts.not_matching(cohort),
        )
        .order_by(pieces.c.id)
    ).all()
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        if not move_piece(
            connection,
            row.id,
            "planned",
            "withdrawn",
            campaign_id=campaign.id,
            code_id=row.code_id,
            actor=actor,
            at=now,
            reason=row.reason,
        ):
            continue  # moved on since we read it: it is no longer ours to withdraw
        if row.code_id is not None:
            revoke_code(
                connection,
                row.code_id,
                actor=actor,
                reason=f"piece withdrawn: {row.reason}",
                now=now,
                piece_id=row.id,
            )
        counts[row.reason] += 1
    return dict(counts)


def _kind_condition(campaign: Campaign) -> list[ColumnElement[bool]]:
    """A certificate is posted to those who have one: persons with a vaccination record."""
    return [cohorts.vaccinated()] if campaign.kind == "certificate" else []


def _plan_newcomers(
    connection: Connection, campaign: Campaign, now: dt.datetime, waiting: list[WaitingEntry]
) -> tuple[list[int], int]:
    cohort = campaign.definition.cohort
    already = exists().where(pieces.c.campaign_id == campaign.id, pieces.c.person_id == persons.c.id)
    first = {entry.person_id for entry in waiting}
    # (person, re-issue number, piece it follows): the waiting list first, then the newcomers.
    planned = [(entry.person_id, entry.reissue_number, entry.reissue_of) for entry in waiting]
    planned += [
        (person_id, 0, None)
        for person_id in connection.execute(
            select(persons.c.id)
            .where(cohorts.eligible(cohort), ~already, *_kind_condition(campaign))
            .order_by(*cohorts.order_by(cohort))
        ).scalars()
        if person_id not in first
    ]
    if not planned:
        return [], 0
    plan = campaign.definition.waves
    last = connection.execute(
        select(waves.c.number, waves.c.send_date)
        .where(waves.c.campaign_id == campaign.id)
        .order_by(waves.c.number.desc())
        .limit(1)
    ).one_or_none()
    number = last.number if last is not None else 0
    if plan.start is None:
        send_date = None
    elif last is not None and last.send_date is not None:
        send_date = last.send_date
    else:
        send_date = plan.start - dt.timedelta(days=plan.days_per_wave)
    new_waves = []
    for start in range(0, len(planned), plan.size):
        members = planned[start : start + plan.size]
        number += 1
        if send_date is not None:
            send_date += dt.timedelta(days=plan.days_per_wave)
        if send_date is not None and campaign.kind != "certificate":
            # A wave whose codes would be expired, or not valid on its send date, is refused here,
            # before any code is issued or letter printed for it.
            require_valid_period(
                campaign.name,
                campaign.validity_days,
                campaign.valid_until,
                send_date,
                now.date(),
                f"campaign {campaign.name} wave {number} (sent {send_date})",
            )
        result = connection.execute(
            waves.insert().values(
                campaign_id=campaign.id,
                number=number,
                send_date=send_date,
                size=len(members),
                state="planned",
                created_at=now,
            )
        )
        assert result.inserted_primary_key is not None
        wave_id = int(result.inserted_primary_key[0])
        new_waves.append(number)
        for chunk_start in range(0, len(members), _CHUNK):
            chunk = members[chunk_start : chunk_start + _CHUNK]
            bulk_insert(
                connection,
                pieces,
                [
                    {
                        "person_id": person_id,
                        "sequence": chunk_start + offset + 1,
                        "reissue_number": reissue_number,
                        "reissue_of": reissue_of,
                    }
                    for offset, (person_id, reissue_number, reissue_of) in enumerate(chunk)
                ],
                constants={
                    "campaign_id": campaign.id,
                    "wave_id": wave_id,
                    **NEW_PIECE,
                    "created_at": now,
                    "updated_at": now,
                },
            )
    return new_waves, len(planned)


def _exclusions(connection: Connection, campaign: Campaign) -> dict[str, int]:
    """Persons the cohort's filters select but who are never invited: deceased, address unknown."""
    matches = cohorts.matches(campaign.definition.cohort)
    deceased = connection.execute(
        select(func.count()).select_from(persons).where(matches, persons.c.deceased == true())
    ).scalar_one()
    unknown = connection.execute(
        select(func.count())
        .select_from(persons)
        .where(matches, persons.c.deceased == false(), persons.c.address_unknown == true())
    ).scalar_one()
    return {"deceased": int(deceased), "address_unknown": int(unknown)}


def wave_summaries(connection: Connection, campaign_id: int) -> list[WaveSummary]:
    """Each wave with its pieces (not withdrawn) counted by language and country."""
    summaries = {
        row.id: WaveSummary(row.number, row.send_date, row.state, 0)
        for row in connection.execute(
            select(waves.c.id, waves.c.number, waves.c.send_date, waves.c.state)
            .where(waves.c.campaign_id == campaign_id)
            .order_by(waves.c.number)
        )
    }
    counted = connection.execute(
        select(pieces.c.wave_id, persons.c.language, persons.c.country, func.count())
        .join(persons, persons.c.id == pieces.c.person_id)
        .where(
            and_(pieces.c.campaign_id == campaign_id, pieces.c.wave_id.is_not(None)),
            pieces.c.state != "withdrawn",
        )
        .group_by(pieces.c.wave_id, persons.c.language, persons.c.country)
    )
    for wave_id, language, country, count in counted:
        summary = summaries[wave_id]
        summary.size += count
        summary.by_language[language] = summary.by_language.get(language, 0) + count
        summary.by_country[country] = summary.by_country.get(country, 0) + count
    return list(summaries.values())
