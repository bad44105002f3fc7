"""Rendering a page: one Jinja2 environment per language (its catalog installed), the language switcher,
form tokens, cookies, and errors shown as pages in the visitor's language."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape

from courrier.accounts.sessions import find_session
from courrier.booking.tokens import read_token
from courrier.catalogue import http_status, message
from courrier.centres.store import LOCAL
from courrier.errors import CourrierError
from courrier.languages import LANGUAGES
from courrier.web.auth import STAFF_COOKIE, context
from courrier.web.i18n import pick_language, request_language
from courrier.web.inputs import form_charset_ok
from courrier.web.pages import csrf
from courrier.web.pages.translations import translations

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
# The switcher's order and each language's own name.
LANGUAGE_NAMES = {
    "lb": "Lëtzebuergesch",
    "fr": "Français",
    "de": "Deutsch",
    "en": "English",
    "pt": "Português",
}
LANG_COOKIE = "lang"
EURO_FORMAT = "#,##0.00"
# The citizen's session (pages/citizen.py); an error page keeps their way back to their appointments.
CITIZEN_COOKIE = "courrier_citizen"
LANG_COOKIE_S = 365 * 24 * 3600
assert set(LANGUAGE_NAMES) == set(LANGUAGES)


@functools.cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["time"] = lambda value: format_time(value.astimezone(LOCAL), "short", locale=language)
    env.filters["date_full"] = lambda value: format_date(_local(value), "full", locale=language)
    env.filters["date"] = lambda value: format_date(value, "long", locale=language)
    env.filters["km"] = lambda value: format_decimal(round(value), locale=language)
    # An amount in euros as the reader writes it ("50,00" in French, German, Portuguese, Luxembourgish):
    # the API's amounts are "50.00", which a clerk reads as fifty only in English.
    env.filters["euros"] = lambda value: format_decimal(Decimal(value), EURO_FORMAT, locale=language)
    # A label and its colon ("Campaign: X"), as the language sets it: French with a no-break space
    # before (languages.french_spacing), so the colon never begins a line.
    # (A translation is Markup, and Markup + str escapes the str: here only the colon.)
    colon = "\xa0:" if language == "fr" else ":"
    env.filters["colon"] = lambda label: label + colon
    return env


def _local(value: dt.datetime | dt.date) -> dt.datetime | dt.date:
    return value.astimezone(LOCAL) if isinstance(value, dt.datetime) else value


def gettext_for(language: str) -> Callable[[str], str]:
    return translations(language).gettext


class FormTokenError(Exception):
    """A POST without its form's token (or with another session's): refused with a 403 page."""


class Redirect(Exception):  # noqa: N818 (a way out of a handler, not an error)
    """Raised anywhere in a page handler: answer with a 303 to ``location``."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@dataclass
class Visitor:
    """What every page needs about who is looking: their language and the cookies to set."""

    request: Request
    language: str
    form_token: str = ""
    # The staff member's user name on staff pages ("" for citizens).
    staff_name: str = ""
    cookies: list[tuple[str, str, int | None]] = field(default_factory=list)

    def set_cookie(self, name: str, value: str, max_age_s: int | None) -> None:
        self.cookies.append((name, value, max_age_s))

    def clear_cookie(self, name: str) -> None:
        self.cookies.append((name, "", 0))

    def apply(self, response: Response) -> Response:
        secure = context(self.request).secure_cookies
        for name, value, max_age_s in self.cookies:
            if max_age_s == 0:
                response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")
            else:
                response.set_cookie(
                    name, value, max_age=max_age_s, path="/", secure=secure, httponly=True, samesite="lax"
                )
        return response

    def redirect(self, location: str) -> Response:
        return self.apply(RedirectResponse(location, status_code=303))


def visitor(request: Request, person_language: str | None = None) -> Visitor:
    """The visitor's language (``?lang=`` is kept in the ``lang`` cookie, so the choice holds from page to
    page and beats the register language) and, for forms before any session, the anonymous form token."""
    language = request_language(request, person_language)
    found = Visitor(request, language)
    chosen = request.query_params.get("lang")
    if (
        chosen
        and pick_language(chosen) == chosen.strip().lower()[:2]
        and request.cookies.get("lang") != language
    ):
        found.set_cookie(LANG_COOKIE, language, LANG_COOKIE_S)
    return found


def anonymous_form_token(found: Visitor) -> str:
    """The double-submit token for forms shown before any session; sets the nonce cookie if missing."""
    nonce = found.request.cookies.get(csrf.FORM_COOKIE)
    if not nonce:
        nonce = csrf.new_nonce()
        found.set_cookie(csrf.FORM_COOKIE, nonce, None)
    return csrf.sign(context(found.request).keys, "anonymous", nonce)


def anonymous_form_ok(request: Request, submitted: str | None) -> bool:
    nonce = request.cookies.get(csrf.FORM_COOKIE)
    return bool(nonce) and csrf.matches(csrf.sign(context(request).keys, "anonymous", nonce or ""), submitted)


def language_links(request: Request, here: str | None) -> list[dict[str, str]]:
    """Plain links to this page in each language."""
    if here is None:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        here = request.url.path + ("?" + urlencode(kept) if kept else "")
    joiner = "&" if "?" in here else "?"
    return [
        {"code": code, "name": name, "href": f"{here}{joiner}lang={code}"}
        for code, name in LANGUAGE_NAMES.items()
    ]


def render(
    found: Visitor,
    template: str,
    *,
    status: int = 200,
    here: str | None = None,
    **values: Any,
) -> Response:
    """The page ``template`` in the visitor's language. ``here`` is the page's GET address for the
    language links (pages shown in answer to a POST give it; the others default to their own URL)."""
    env = environment(found.language)
    html = env.get_template(template).render(
        lang=found.language,
        languages=language_links(found.request, here),
        form_token=found.form_token,
        staff_name=found.staff_name,
        csrf_field=csrf.FIELD,
        request_args=found.request.query_params,
        **values,
    )
    return found.apply(HTMLResponse(html, status_code=status))


def _staff_wording(code: str, language: str) -> str | None:
    """The catalogue speaks to the person ("You already have…"); on the helpline's pages the staff member
    reads it about the caller: these codes have their staff wording in the pages' catalogs."""
    _ = gettext_for(language)
    return {"already_booked": _("The caller already has an appointment for this dose.")}.get(code)


def error_text(error: CourrierError, language: str, *, staff: bool = False) -> str:
    wording = _staff_wording(error.code, language) if staff else None
    if wording is not None:
        return wording
    return message(error, language)


def error_page(request: Request, error: CourrierError) -> Response:
    return _error(request, http_status(error), error.code, lambda language: error_text(error, language))


# Staff pages' addresses: an error there keeps the staff bar (sign out), elsewhere the citizen's.
_STAFF_PATHS = ("/staff", "/helpline", "/reception", "/physician")


def _error(request: Request, status: int, code: str, text: Callable[[str], str]) -> Response:
    """The error page in the visitor's language, with the bar a signed-in visitor has on every other
    page: a staff member's (sign out) on staff pages, else a live citizen session's (their appointments,
    Leave), each with its session's form token."""
    found = visitor(request)
    citizen_signed_in = False
    ctx = context(request)
    if request.url.path.startswith(_STAFF_PATHS):
        staff_token = request.cookies.get(STAFF_COOKIE)
        if staff_token:
            with ctx.engine.connect() as connection:
                session = find_session(connection, staff_token, now=ctx.clock())
            if session is not None:
                found.staff_name = session.user.username
                found.form_token = session.csrf_token
    else:
        token = request.cookies.get(CITIZEN_COOKIE)
        if token:
            try:
                read_token(ctx.keys, token, ctx.clock())
            except CourrierError:
                pass
            else:
                citizen_signed_in = True
                found.form_token = csrf.sign(ctx.keys, "citizen", token)
    return render(
        found,
        "error.html",
        status=status,
        here="/",
        code=code,
        text=text(found.language),
        citizen_signed_in=citizen_signed_in,
    )


def _form_expired(language: str) -> str:
    _ = gettext_for(language)
    return _("This form has expired or did not come from this site. Please go back and try again.")


def _form_malformed(language: str) -> str:
    _ = gettext_for(language)
    return _("This form was not filled in as expected.")


class PageRoute(APIRoute):
    """A page route: a redirect raised in the handler becomes a 303, a library error an HTML page in the
    visitor's language (not the API's JSON), a malformed form (or one not in UTF-8: web/inputs.py) a
    422 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            if not form_charset_ok(request.headers.get("content-type")):
                return _error(request, 422, "invalid_request", _form_malformed)
            try:
                return await handler(request)
            except Redirect as redirect:
                return RedirectResponse(redirect.location, status_code=303)
            except CourrierError as error:
                return error_page(request, error)
            except FormTokenError:
                return _error(request, 403, "bad_form_token", _form_expired)
            except RequestValidationError:
                return _error(request, 422, "invalid_request", _form_malformed)

        return page_handler
