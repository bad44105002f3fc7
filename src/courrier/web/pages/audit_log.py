"""The audit log's page (admin): every view or change of personal data by staff, filtered by who,
what and when, and the same rows as CSV. Looking at the log is itself written to it (``audit.viewed``,
``audit.exported``): the log names the people staff looked at."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from urllib.parse import urlencode

from babel.dates import format_datetime
from fastapi import APIRouter, Request, Response

from courrier.accounts.audit import AuditEntry, audit, audit_actions, list_audit
from courrier.centres.store import LOCAL
from courrier.db.transaction import write_transaction
from courrier.web.auth import context
from courrier.web.inputs import form_day
from courrier.web.pages.render import PageRoute, gettext_for, render
from courrier.web.pages.staff import staff_page
from courrier.web.pages.tables import csv_response

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE = "/staff/audit"
# The page shows the newest rows; the CSV holds every row the filter matches, up to this many.
PAGE_ROWS, CSV_ROWS = 500, 1_000_000


def _filters(request: Request) -> dict[str, str]:
    return {
        name: (request.query_params.get(name) or "").strip()[:64] for name in ("user", "action", "from", "to")
    }


def _day_start(text: str, *, next_day: bool = False) -> dt.datetime | None:
    day = form_day(text)
    if day is None:
        return None
    if next_day:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), LOCAL).astimezone(dt.UTC)


def _entries(request: Request, filters: dict[str, str], limit: int, action: str) -> list[AuditEntry]:
    """The matching entries; looking at them is recorded in the same transaction."""
    ctx = context(request)
    _found, session = staff_page(request)
    with write_transaction(ctx.engine) as connection:
        entries = list_audit(
            connection,
            username=filters["user"] or None,
            action=filters["action"] or None,
            since=_day_start(filters["from"]),
            until=_day_start(filters["to"], next_day=True),
            limit=limit,
        )
        audit(
            connection,
            session.user,
            action,
            "audit_log",
            now=ctx.clock(),
            details={**{k: v for k, v in filters.items() if v}, "rows": len(entries)},
        )
    return entries


@router.get(PAGE)
def audit_page(request: Request) -> Response:
    found, _session = staff_page(request, "admin")
    filters = _filters(request)
    entries = _entries(request, filters, PAGE_ROWS + 1, "audit.viewed")
    with context(request).engine.connect() as connection:
        actions = audit_actions(connection)
    query = urlencode({name: value for name, value in filters.items() if value})
    return render(
        found,
        "audit_log.html",
        filters=filters,
        actions=actions,
        entries=[
            (format_datetime(entry.at.astimezone(LOCAL), "short", locale=found.language), entry)
            for entry in entries[:PAGE_ROWS]
        ],
        more=len(entries) > PAGE_ROWS,
        csv_href=PAGE + ".csv" + ("?" + query if query else ""),
    )


@router.get(PAGE + ".csv")
def audit_csv(request: Request) -> Response:
    found, _session = staff_page(request, "admin")
    entries = _entries(request, _filters(request), CSV_ROWS, "audit.exported")
    _ = gettext_for(found.language)

    def rows() -> Iterator[list[str]]:
        yield [_("When (UTC)"), _("User"), _("Role"), _("Action"), _("Subject"), _("Details")]
        for entry in entries:
            details = json.dumps(entry.details, sort_keys=True, ensure_ascii=False) if entry.details else ""
            yield [entry.at.isoformat(), entry.username, entry.role, entry.action, entry.subject, details]

    return csv_response(rows(), "audit-log.csv")
