"""Staff sign-in and sign-out pages, the staff home, and the check every staff page makes.

The staff session is the accounts package's server-side session; its token is in the ``courrier_staff``
cookie (HttpOnly, SameSite=Lax, Secure unless the app runs with insecure cookies), the same cookie the
API's staff routes accept, and its CSRF token is every staff form's token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from courrier.accounts.sessions import SESSION_HOURS, StaffSession, end_session, find_session, open_session
from courrier.accounts.users import authenticate
from courrier.catalogue import http_status
from courrier.db.transaction import write_transaction
from courrier.errors import AccountError, CourrierError
from courrier.web.auth import STAFF_COOKIE, client_address, context
from courrier.web.pages import csrf
from courrier.web.pages.render import (
    FormTokenError,
    PageRoute,
    Redirect,
    Visitor,
    anonymous_form_ok,
    anonymous_form_token,
    error_text,
    render,
    visitor,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SIGN_IN = "/staff/sign-in"
# The pages each role has, for the staff home (admin has them all).
ROLE_PAGES = {
    "helpline": ("/helpline",),
    "reception": ("/reception",),
    "physician": ("/physician",),
    "operator": ("/staff/operator",),
    "ministry": ("/staff/ministry",),
    "admin": ("/staff/audit",),
    "establishment": ("/establishment", "/establishment/statements"),
}


def staff_session(request: Request) -> StaffSession | None:
    token = request.cookies.get(STAFF_COOKIE)
    if not token:
        return None
    ctx = context(request)
    with ctx.engine.connect() as connection:
        return find_session(connection, token, now=ctx.clock())


def staff_page(request: Request, *roles: str) -> tuple[Visitor, StaffSession]:
    """The staff member looking at a page and their visitor (form token: the session's CSRF token);
    to the sign-in page without a session, a 403 page when their role is not in ``roles`` (admin may
    see every staff page)."""
    session = staff_session(request)
    if session is None:
        raise Redirect(SIGN_IN)
    if roles and session.user.role not in (*roles, "admin"):
        raise AccountError("your role may not see this page", code="forbidden")
    found = visitor(request)
    found.form_token = session.csrf_token
    found.staff_name = session.user.username
    return found, session


def _sign_in_page(
    found: Visitor, username: str = "", *, error: str | None = None, status: int = 200
) -> Response:
    found.form_token = anonymous_form_token(found)
    return render(found, "staff_sign_in.html", status=status, here=SIGN_IN, username=username, error=error)


@router.get(SIGN_IN)
def sign_in_page(request: Request) -> Response:
    if staff_session(request) is not None:
        raise Redirect("/staff")
    return _sign_in_page(visitor(request))


@router.post(SIGN_IN)
async def sign_in(request: Request) -> Response:
    form = await request.form()
    found = visitor(request)
    if not anonymous_form_ok(request, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    username = (_text(form.get("username")) or "").strip()[:64]
    password = _text(form.get("password")) or ""
    ctx = context(request)
    now = ctx.clock()
    # A wrong password must still count its failure: the transaction commits before the error is shown.
    failure: CourrierError | None = None
    with write_transaction(ctx.engine) as connection:
        try:
            user = authenticate(connection, username, password, client=client_address(request), now=now)
        except CourrierError as error:
            failure = error
        else:
            session = open_session(connection, user, now=now)
    if failure is not None:
        response = _sign_in_page(
            found, username, error=error_text(failure, found.language), status=http_status(failure)
        )
        retry_after_s = getattr(failure, "retry_after_s", None)
        if retry_after_s is not None:
            response.headers["Retry-After"] = str(retry_after_s)
        return response
    found.set_cookie(STAFF_COOKIE, session.token, SESSION_HOURS * 3600)
    return found.redirect("/staff")


@router.post("/staff/sign-out")
async def sign_out(request: Request) -> Response:
    found, session = staff_page(request)
    form = await request.form()
    if not csrf.matches(session.csrf_token, _text(form.get(csrf.FIELD))):
        raise FormTokenError()
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        end_session(connection, session.token, now=ctx.clock())
    found.clear_cookie(STAFF_COOKIE)
    return found.redirect(SIGN_IN + "?signed_out=1")


@router.get("/staff")
def staff_home(request: Request) -> Response:
    found, session = staff_page(request)
    role = session.user.role
    pages = [page for r, paths in ROLE_PAGES.items() if role in (r, "admin") for page in paths]
    return render(found, "staff_home.html", staff=session.user, pages=pages)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
