"""The ministry's counts: letters sent, bookings and doses against capacity, no-shows, vouchers.

Every function returns counts, never a row about a person: the queries group before anything leaves
the database (or, for the days, count slot and vaccination rows by local day), and the counts go
through :mod:`.suppression` before a page shows them (:func:`ministry_view`). What a campaign's letter
"sent" means: the piece was handed to the post (a ``piece.posted`` event), as on the posting statement.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, func, select
from sqlalchemy.orm import aliased

from courrier.campaigns.definition import parse_definition
from courrier.centres.store import LOCAL
from courrier.dashboards.suppression import (
    ALL,
    Count,
    Withheld,
    suppress_rate,
    suppress_table,
    suppress_with_totals,
)
from courrier.db.schema import (
    bookings,
    campaigns,
    centres,
    establishments,
    events,
    pieces,
    redemptions,
    slots,
    vaccinations,
    waves,
)


@dataclass(frozen=True)
class SentRow:
    """Letters posted for one wave of one campaign (``wave`` None: the re-issues)."""

    campaign: str
    title: str
    wave: int | None
    sent: Count
    # The campaign's total over its waves (``wave`` None).
    total: bool = False


@dataclass(frozen=True)
class DayRow:
    """One local day at one centre: places opened, bookings (not cancelled), doses given."""

    day: dt.date
    centre: str
    capacity: int
    bookings: Count
    doses: Count


@dataclass(frozen=True)
class NoShowRow:
    """Bookings whose slot is over (not cancelled) at a centre, those nobody came to, and the rate."""

    centre: str
    due: Count
    no_shows: Count
    rate: float | None


@dataclass(frozen=True)
class VoucherRow:
    """Vouchers redeemed in one week (ISO, ``2021-W05``) in one region (the establishments'), not
    undone, and what they are worth: what the establishments are to be reimbursed."""

    week: str
    region: str
    redeemed: Count
    amount_cents: Count


@dataclass
class MinistryView:
    """What the ministry's dashboard shows, every count suppressed already."""

    first_day: dt.date
    last_day: dt.date
    sent: list[SentRow] = field(default_factory=list)
    days: list[DayRow] = field(default_factory=list)
    # Per day over all centres (the chart): (day, capacity, bookings, doses).
    day_totals: list[tuple[dt.date, int, Count, Count]] = field(default_factory=list)
    # Over the period and every centre: (places, bookings, doses).
    period_totals: tuple[int, Count, Count] = (0, 0, 0)
    no_shows: list[NoShowRow] = field(default_factory=list)
    vouchers: list[VoucherRow] = field(default_factory=list)
    # Per region over the period (the chart), and over every region: (region, redeemed, amount).
    voucher_regions: list[tuple[str, Count, Count]] = field(default_factory=list)
    voucher_total: tuple[Count, Count] = (0, 0)


def local_day(at: dt.datetime) -> dt.date:
    return at.astimezone(LOCAL).date()


def _utc_bounds(first_day: dt.date, last_day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(first_day, dt.time(), LOCAL).astimezone(dt.UTC)
    end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), LOCAL).astimezone(dt.UTC)
    return start, end


def letters_sent(connection: Connection, language: str) -> list[SentRow]:
    """Invitation letters posted, per campaign (a phase: an age group) and wave, then each campaign's
    total (``total``), suppressed together."""
    posted = select(events.c.piece_id).where(events.c.type == "piece.posted").distinct().subquery()
    query = (
        select(campaigns.c.name, campaigns.c.definition, waves.c.number, func.count())
        .select_from(pieces)
        .join(posted, posted.c.piece_id == pieces.c.id)
        .join(campaigns, campaigns.c.id == pieces.c.campaign_id)
        .outerjoin(waves, waves.c.id == pieces.c.wave_id)
        .where(campaigns.c.kind == "invitation")
        .group_by(campaigns.c.name, campaigns.c.definition, waves.c.number)
        .order_by(campaigns.c.name, waves.c.number)
    )
    counts: dict[tuple[str, int | None], int] = {}
    titles: dict[str, str] = {}
    for name, definition, wave, count in connection.execute(query):
        counts[(name, wave)] = int(count)
        titles[name] = parse_definition(definition).title(language)
    shown = suppress_with_totals(counts)
    return [SentRow(name, titles[name], wave, shown[(name, wave)]) for name, wave in counts] + [
        SentRow(name, title, None, shown[(name, ALL)], total=True) for name, title in titles.items()
    ]


def bookings_by_day(
    connection: Connection, first_day: dt.date, last_day: dt.date
) -> tuple[list[DayRow], list[tuple[dt.date, int, Count, Count]], tuple[int, Count, Count]]:
    """Per local day and centre from ``first_day`` to ``last_day``: the places opened (all campaigns),
    the bookings in those slots that were not cancelled, and the doses given (current vaccination
    records, a correction counted once); the same per day over all centres; and over the period."""
    start, end = _utc_bounds(first_day, last_day)
    capacity: Counter[tuple[dt.date, str]] = Counter()
    booked: Counter[tuple[dt.date, str]] = Counter()
    doses: Counter[tuple[dt.date, str]] = Counter()
    in_window = and_(slots.c.starts_at >= start, slots.c.starts_at < end)
    for starts_at, centre, places in connection.execute(
        select(slots.c.starts_at, slots.c.centre_id, func.sum(slots.c.capacity))
        .where(in_window)
        .group_by(slots.c.starts_at, slots.c.centre_id)
    ):
        capacity[(local_day(starts_at), centre)] += int(places)
    for starts_at, centre, count in connection.execute(
        select(slots.c.starts_at, slots.c.centre_id, func.count())
        .select_from(bookings)
        .join(slots, slots.c.id == bookings.c.slot_id)
        .where(in_window, bookings.c.state != "cancelled")
        .group_by(slots.c.starts_at, slots.c.centre_id)
    ):
        booked[(local_day(starts_at), centre)] += int(count)
    later = aliased(vaccinations)
    corrected = select(later.c.id).where(later.c.supersedes == vaccinations.c.id).exists()
    for given_at, centre, count in connection.execute(
        select(vaccinations.c.given_at, vaccinations.c.centre_id, func.count())
        .where(vaccinations.c.given_at >= start, vaccinations.c.given_at < end, ~corrected)
        .group_by(vaccinations.c.given_at, vaccinations.c.centre_id)
    ):
        doses[(local_day(given_at), centre)] += int(count)
    names = dict(connection.execute(select(centres.c.id, centres.c.name)).all())
    keys = sorted(set(capacity) | set(booked) | set(doses))
    shown_bookings = suppress_with_totals({key: booked[key] for key in keys})
    shown_doses = suppress_with_totals({key: doses[key] for key in keys})
    rows = [
        DayRow(day, names.get(centre, centre), capacity[(day, centre)], shown_bookings[key], shown_doses[key])
        for key in keys
        for day, centre in [key]
    ]
    # The chart starts on the first day with places opened or anything counted, and ends on the last.
    days = sorted({day for day, _ in keys})
    totals = []
    day = days[0] if days else first_day
    while days and day <= days[-1]:
        places = sum(capacity[key] for key in keys if key[0] == day)
        totals.append((day, places, shown_bookings.get((day, ALL), 0), shown_doses.get((day, ALL), 0)))
        day += dt.timedelta(days=1)
    period = (sum(capacity.values()), shown_bookings.get((ALL, ALL), 0), shown_doses.get((ALL, ALL), 0))
    return rows, totals, period


def no_show_rates(connection: Connection, now: dt.datetime) -> list[NoShowRow]:
    """Per centre, over the bookings whose slot has ended (not cancelled): how many nobody checked in
    for (released as no-shows or not), and the share; the last row is every centre together."""
    query = (
        select(
            slots.c.centre_id,
            func.count(),
            func.count().filter(bookings.c.checked_in_at.is_(None)),
        )
        .select_from(bookings)
        .join(slots, slots.c.id == bookings.c.slot_id)
        .where(slots.c.ends_at < now, bookings.c.state != "cancelled")
        .group_by(slots.c.centre_id)
        .order_by(slots.c.centre_id)
    )
    names = dict(connection.execute(select(centres.c.id, centres.c.name)).all())
    found = [(str(centre), int(due), int(missed)) for centre, due, missed in connection.execute(query)]
    # The last row is the total: each column's cells are suppressed together, so that no hidden cell
    # is the total less the others.
    found.append(("", sum(row[1] for row in found), sum(row[2] for row in found)))
    cells = {(index, "due"): due for index, (_, due, _) in enumerate(found)}
    cells |= {(index, "missed"): missed for index, (_, _, missed) in enumerate(found)}
    shown = suppress_table(cells, axes=(1,))
    rows = []
    for index, (centre, due, missed) in enumerate(found):
        due_shown, missed_shown = shown[(index, "due")], shown[(index, "missed")]
        withheld = isinstance(due_shown, Withheld) or isinstance(missed_shown, Withheld)
        rate = None if withheld else suppress_rate(missed, due)
        rows.append(NoShowRow(names.get(centre, centre), due_shown, missed_shown, rate))
    return rows


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def vouchers_redeemed(
    connection: Connection, first_day: dt.date, last_day: dt.date
) -> tuple[list[VoucherRow], list[tuple[str, Count, Count]], tuple[Count, Count]]:
    """Redemptions that stand (not undone) from ``first_day`` to ``last_day`` (local days), per ISO week
    and region, per region, and in all. A sum of money is withheld wherever its count is: 50 euros a
    voucher would give the count away."""
    start, end = _utc_bounds(first_day, last_day)
    count: Counter[tuple[str, str]] = Counter()
    cents: Counter[tuple[str, str]] = Counter()
    for redeemed_at, region, amount, number in connection.execute(
        select(
            redemptions.c.redeemed_at,
            establishments.c.region,
            func.sum(redemptions.c.amount_cents),
            func.count(),
        )
        .join(establishments, establishments.c.id == redemptions.c.establishment_id)
        .where(
            redemptions.c.undone_at.is_(None),
            redemptions.c.redeemed_at >= start,
            redemptions.c.redeemed_at < end,
        )
        .group_by(redemptions.c.redeemed_at, establishments.c.region)
    ):
        key = (iso_week(local_day(redeemed_at)), str(region))
        count[key] += int(number)
        cents[key] += int(amount)
    shown = suppress_with_totals(dict(count))
    rows = [
        VoucherRow(week, region, shown[(week, region)], _money(shown[(week, region)], cents[(week, region)]))
        for week, region in sorted(count)
    ]
    regions = []
    for region in sorted({region for _, region in count}):
        number = shown[(ALL, region)]
        regions.append((region, number, _money(number, sum(c for (_, r), c in cents.items() if r == region))))
    total = shown.get((ALL, ALL), 0)
    return rows, regions, (total, _money(total, sum(cents.values())))


def _money(shown_count: Count, cents: int) -> Count:
    return shown_count if isinstance(shown_count, Withheld) else cents


def ministry_view(
    connection: Connection, *, first_day: dt.date, last_day: dt.date, now: dt.datetime, language: str
) -> MinistryView:
    """Everything the ministry's dashboard shows, suppressed."""
    view = MinistryView(first_day, last_day)
    view.sent = letters_sent(connection, language)
    view.days, view.day_totals, view.period_totals = bookings_by_day(connection, first_day, last_day)
    view.no_shows = no_show_rates(connection, now)
    view.vouchers, view.voucher_regions, view.voucher_total = vouchers_redeemed(
        connection, first_day, last_day
    )
    return view
