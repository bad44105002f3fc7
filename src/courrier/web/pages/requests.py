"""The citizen's request page: "I did not get my letter / I lost it" and the waiting list for those who
missed their phase (``booking.requests``). The answer is the same whether or not the person is in the
register; only a malformed field, an unknown campaign or too many requests are refused."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from courrier.booking.requests import submit_request
from courrier.campaigns.definition import parse_definition
from courrier.catalogue import http_status
from courrier.db.schema import campaigns
from courrier.errors import CourrierError
from courrier.web.auth import client_address, context
from courrier.web.pages import csrf
from courrier.web.pages.render import (
    FormTokenError,
    PageRoute,
    Visitor,
    anonymous_form_ok,
    anonymous_form_token,
    error_text,
    gettext_for,
    render,
    visitor,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
KINDS = ("resend", "waiting_list")
# The refusal's code → the field it is about.
FIELD_OF = {"bad_matricule": "matricule", "unknown_campaign": "campaign"}


def _campaign_choices(request: Request, language: str) -> list[tuple[str, str]]:
    """(name, public title in ``language``) of each invitation campaign: the form sends the name, the
    person reads the title."""
    with context(request).engine.connect() as connection:
        rows = connection.execute(
            select(campaigns.c.name, campaigns.c.definition)
            .where(campaigns.c.kind == "invitation")
            .order_by(campaigns.c.name)
        ).all()
    return [(row.name, parse_definition(row.definition).title(language)) for row in rows]


def _page(found: Visitor, values: dict[str, str], errors: dict[str, str], *, status: int = 200) -> Response:
    found.form_token = anonymous_form_token(found)
    return render(
        found,
        "request.html",
        status=status,
        here="/request",
        campaigns=_campaign_choices(found.request, found.language),
        values=values,
        errors=errors,
    )


@router.get("/request")
def request_page(request: Request, kind: str = "resend") -> Response:
    return _page(visitor(request), {"kind": kind if kind in KINDS else "resend"}, {})


@router.post("/request")
async def send_request(request: Request) -> Response:
    form = await request.form()
    found = visitor(request)
    if not anonymous_form_ok(request, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    values = {
        name: (_text(form.get(name)) or "").strip()[:100]
        for name in ("kind", "campaign", "matricule", "birth_date", "postcode")
    }
    _ = gettext_for(found.language)
    errors: dict[str, str] = {}
    if values["kind"] not in KINDS:
        errors["kind"] = _("Choose what you are asking for.")
    if not values["campaign"]:
        errors["campaign"] = _("Choose the campaign.")
    try:
        birth_date = dt.date.fromisoformat(values["birth_date"])
    except ValueError:
        errors["birth_date"] = _("Give the date as year-month-day, for example 1948-03-21.")
    if not values["postcode"]:
        errors["postcode"] = _("Give your postcode.")
    if not values["matricule"]:
        errors["matricule"] = _("Give your national identification number.")
    if errors:
        return _page(found, values, errors, status=422)
    ctx = context(request)
    try:
        submit_request(
            ctx.engine,
            values["kind"],
            values["campaign"],
            values["matricule"],
            birth_date,
            values["postcode"],
            client=client_address(request),
            now=ctx.clock(),
        )
    except CourrierError as error:
        field = FIELD_OF.get(error.code, "form")
        response = _page(found, values, {field: error_text(error, found.language)}, status=http_status(error))
        retry_after_s = getattr(error, "retry_after_s", None)
        if retry_after_s is not None:
            response.headers["Retry-After"] = str(retry_after_s)
        return response
    return render(found, "request_received.html", here="/request", kind=values["kind"])


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
