"""The ministry's dashboard: counts only, small cells suppressed, every table downloadable as CSV.

Letters sent per phase (an invitation campaign) and wave, bookings and doses per day and centre
against the places opened, no-shows per centre, and the vouchers' redemptions once they are recorded.
The counts come from :mod:`courrier.dashboards.ministry`, suppressed there; the page and its CSV
files are made from the same :class:`.tables.Table` objects.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date
from fastapi import APIRouter, Request, Response

from courrier.dashboards.ministry import MinistryView, local_day, ministry_view
from courrier.dashboards.suppression import Count, Withheld, shown_value
from courrier.errors import NotFoundError
from courrier.web.auth import context
from courrier.web.charts import Bar, Column, bar_chart, column_chart
from courrier.web.inputs import form_day
from courrier.web.pages.render import PageRoute, gettext_for, render
from courrier.web.pages.staff import staff_page
from courrier.web.pages.tables import Euros, Percent, Table, Value, csv_response, page_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE = "/staff/ministry"
# The days shown by default around today, and the longest range one may ask for.
DAYS_BEFORE, DAYS_AFTER, MAX_DAYS = 14, 14, 92


def _days(request: Request) -> tuple[dt.date, dt.date]:
    today = local_day(context(request).clock())
    first = _date(request.query_params.get("from")) or today - dt.timedelta(days=DAYS_BEFORE)
    last = _date(request.query_params.get("to")) or first + dt.timedelta(days=DAYS_BEFORE + DAYS_AFTER)
    if last < first:
        first, last = last, first
    return first, min(last, first + dt.timedelta(days=MAX_DAYS - 1))


def _date(text: str | None) -> dt.date | None:
    return form_day(text)


def _view(request: Request, language: str) -> MinistryView:
    first, last = _days(request)
    ctx = context(request)
    with ctx.engine.connect() as connection:
        return ministry_view(connection, first_day=first, last_day=last, now=ctx.clock(), language=language)


def _tables(view: MinistryView, language: str) -> dict[str, Table]:
    _ = gettext_for(language)
    sent = Table(
        "sent",
        _("Invitation letters sent, per phase and wave"),
        [_("Phase"), _("Wave"), _("Letters sent")],
        [
            [
                row.title,
                _("all waves") if row.total else row.wave if row.wave is not None else _("re-issues"),
                row.sent,
            ]
            for row in view.sent
        ],
        numeric=frozenset({2}),
    )
    days = Table(
        "days",
        _("Bookings and doses per day and centre"),
        [_("Day"), _("Centre"), _("Places"), _("Bookings"), _("Doses given"), _("Places booked")],
        [
            [
                row.day.isoformat(),
                row.centre,
                row.capacity,
                row.bookings,
                row.doses,
                Percent(_share(row.bookings, row.capacity)),
            ]
            for row in view.days
        ],
        numeric=frozenset({2, 3, 4, 5}),
    )
    no_shows = Table(
        "no-shows",
        _("No-shows per centre (appointments whose time is over)"),
        [_("Centre"), _("Appointments"), _("Nobody came"), _("No-show rate")],
        [[row.centre or _("All centres"), row.due, row.no_shows, Percent(row.rate)] for row in view.no_shows],
        numeric=frozenset({1, 2, 3}),
    )
    vouchers = Table(
        "vouchers",
        _("Vouchers redeemed per week and region"),
        [_("Week"), _("Region"), _("Vouchers redeemed"), _("To reimburse")],
        [[row.week, row.region, row.redeemed, Euros(row.amount_cents)] for row in view.vouchers],
        numeric=frozenset({2, 3}),
    )
    total_redeemed, total_cents = view.voucher_total
    region_rows: list[list[Value | Percent | Euros]] = [
        [region, count, Euros(cents)] for region, count, cents in view.voucher_regions
    ]
    regions = Table(
        "voucher-regions",
        _("Vouchers redeemed and reimbursements per region, over the period"),
        [_("Region"), _("Vouchers redeemed"), _("To reimburse")],
        [*region_rows, [_("All regions"), total_redeemed, Euros(total_cents)]],
        numeric=frozenset({1, 2}),
    )
    return {table.id: table for table in (sent, days, no_shows, vouchers, regions)}


def _days_description(language: str) -> str:
    _ = gettext_for(language)
    return _(
        "Columns per day: bookings in blue, doses given in orange, the places opened as a dashed outline."
    )


def _share(count: Count, whole: int) -> float | None:
    return None if isinstance(count, Withheld) or not whole else count / whole


def _busiest(total: tuple[dt.date, int, Count, Count] | None, language: str) -> str:
    if total is None or not shown_value(total[2]):
        return ""
    _ = gettext_for(language)
    day = format_date(total[0], "full", locale=language)
    return " " + _("Most bookings: %(day)s, %(count)s.") % {"day": day, "count": _number(total[2], language)}


def _number(value: Count, language: str) -> str:
    return page_text(value, language)


def _charts(view: MinistryView, language: str) -> dict[str, object]:
    _ = gettext_for(language)
    sent_bars = [
        Bar(row.title, shown_value(row.sent), _number(row.sent, language)) for row in view.sent if row.total
    ]
    columns = [
        Column(
            format_date(day, "d MMM", locale=language),
            (shown_value(booked), shown_value(doses)),
            (_number(booked, language), _number(doses, language)),
            capacity,
            _number(capacity, language),
        )
        for day, capacity, booked, doses in view.day_totals
    ]
    busiest = max(view.day_totals, key=lambda total: shown_value(total[2]) or 0, default=None)
    rate_bars = [
        Bar(
            row.centre or _("All centres"),
            None if row.rate is None else round(row.rate * 1000),
            page_text(Percent(row.rate), language),
        )
        for row in view.no_shows
    ]
    voucher_bars = [
        Bar(region, shown_value(count), _number(count, language))
        for region, count, _cents in view.voucher_regions
    ]
    first = format_date(view.first_day, "long", locale=language)
    last = format_date(view.last_day, "long", locale=language)
    return {
        "sent": bar_chart(
            "chart-sent",
            _("Invitation letters sent per phase"),
            _("One bar per phase: the letters handed to the post, every wave together.")
            + " "
            + "; ".join(f"{bar.label}: {bar.text}" for bar in sent_bars),
            sent_bars,
        ),
        "days": column_chart(
            "chart-days",
            _("Bookings and doses per day, all centres, from %(first)s to %(last)s")
            % {"first": first, "last": last},
            _days_description(language) + _busiest(busiest, language),
            columns,
            (_("Bookings"), _("Doses given")),
            _("Places"),
        ),
        "vouchers": bar_chart(
            "chart-vouchers",
            _("Vouchers redeemed per region"),
            _("One bar per region: the vouchers redeemed over the period, undone ones left out.")
            + " "
            + "; ".join(f"{bar.label}: {bar.text}" for bar in voucher_bars),
            voucher_bars,
        ),
        "no_shows": bar_chart(
            "chart-no-shows",
            _("No-show rate per centre"),
            _("One bar per centre: the share of appointments nobody came to.")
            + " "
            + "; ".join(f"{bar.label}: {bar.text}" for bar in rate_bars),
            rate_bars,
        ),
    }


@router.get(PAGE)
def ministry_page(request: Request) -> Response:
    found, _session = staff_page(request, "ministry")
    view = _view(request, found.language)
    return render(
        found,
        "ministry.html",
        view=view,
        tables=_tables(view, found.language),
        charts=_charts(view, found.language),
        period={"from": view.first_day.isoformat(), "to": view.last_day.isoformat()},
        period_totals=[page_text(value, found.language) for value in view.period_totals],
    )


@router.get(PAGE + "/{table}.csv")
def ministry_csv(request: Request, table: str) -> Response:
    found, _session = staff_page(request, "ministry")
    view = _view(request, found.language)
    tables = _tables(view, found.language)
    if table not in tables:
        raise NotFoundError(f"no table {table!r}", code="unknown_table")
    name = f"{table}-{view.first_day.isoformat()}-{view.last_day.isoformat()}.csv"
    return csv_response(tables[table].csv_rows(), name)
