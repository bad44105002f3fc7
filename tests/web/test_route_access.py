"""Every route of the app, tried by every kind of caller: anonymous, a citizen session, each staff role.

``RULES`` says who may call each route (method and pattern); the test walks the app's own route table,
so a new route without a rule fails here until someone decides who may call it. A caller is refused
when the answer is 401, a 403 ``forbidden``, or (pages) a redirect back to the code form; any other
answer (200, 404 for a made-up id, 422 for an empty body...) means the caller got past the door.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from courrier.accounts.roles import ROLES
from courrier.web.pages import csrf

from .conftest import bearer, citizen_token

ANONYMOUS = "anonymous"
CITIZEN = "citizen"
EVERYONE = frozenset({ANONYMOUS, CITIZEN, *ROLES})
# Routes that read a Bearer token as a citizen's when there is one: a staff token is refused there.
PUBLIC = frozenset({ANONYMOUS, CITIZEN})
CITIZENS = frozenset({CITIZEN})
STAFF = frozenset(ROLES)
HELPLINE = frozenset({"helpline", "admin"})
OPERATOR = frozenset({"operator", "admin"})
ADMIN = frozenset({"admin"})
RECEPTION = frozenset({"reception", "admin"})
PHYSICIAN = frozenset({"physician", "admin"})
CENTRE = frozenset({"reception", "physician", "admin"})
MINISTRY = frozenset({"ministry", "admin"})
ESTABLISHMENT = frozenset({"establishment", "admin"})

RULES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/health"): EVERYONE,
    ("GET", "/api/openapi.json"): EVERYONE,
    # Prometheus: clients on the loopback or with COURRIER_METRICS_TOKEN, none of these callers
    ("GET", "/metrics"): frozenset(),
    # citizens
    ("POST", "/api/v1/sessions"): EVERYONE,
    ("GET", "/api/v1/centres"): PUBLIC,
    ("GET", "/api/v1/questions"): PUBLIC,
    ("GET", "/api/v1/slots"): PUBLIC,
    ("POST", "/api/v1/bookings"): CITIZENS,
    ("GET", "/api/v1/bookings"): CITIZENS,
    ("GET", "/api/v1/bookings/{booking_id}"): CITIZENS,
    ("DELETE", "/api/v1/bookings/{booking_id}"): CITIZENS,
    ("POST", "/api/v1/bookings/{booking_id}/move"): CITIZENS,
    ("GET", "/api/v1/bookings/{booking_id}/confirmation.pdf"): CITIZENS,
    # requests: anonymous and throttled; the print shop decides
    ("POST", "/api/v1/requests"): EVERYONE,
    ("POST", "/api/v1/waiting-list"): EVERYONE,
    ("GET", "/api/v1/staff/requests"): OPERATOR,
    ("POST", "/api/v1/staff/requests/{request_id}/approve"): OPERATOR,
    ("POST", "/api/v1/staff/requests/{request_id}/reject"): OPERATOR,
    # the helpline
    ("POST", "/api/v1/helpline/callers"): HELPLINE,
    ("POST", "/api/v1/helpline/callers/{caller}/bookings"): HELPLINE,
    ("POST", "/api/v1/helpline/callers/{caller}/bookings/{booking_id}/move"): HELPLINE,
    ("DELETE", "/api/v1/helpline/callers/{caller}/bookings/{booking_id}"): HELPLINE,
    ("GET", "/api/v1/helpline/callers/{caller}/bookings/{booking_id}/confirmation.pdf"): HELPLINE,
    # the centre: reception check-in, the day, the vaccination record (the centre's own only)
    ("POST", "/api/v1/checkins"): RECEPTION,
    ("POST", "/api/v1/checkins/preview"): RECEPTION,
    ("POST", "/api/v1/checkins/batch"): RECEPTION,
    ("GET", "/api/v1/checkins/{checkin_id}/history"): CENTRE,
    ("GET", "/api/v1/centres/{centre_id}/day"): CENTRE,
    ("POST", "/api/v1/centres/{centre_id}/day/no-shows"): RECEPTION,
    ("GET", "/api/v1/centres/{centre_id}/offline"): RECEPTION,
    ("POST", "/api/v1/vaccinations"): PHYSICIAN,
    ("POST", "/api/v1/vaccinations/{record_id}/corrections"): PHYSICIAN,
    ("GET", "/api/v1/vaccinations/{record_id}/certificate.pdf"): PHYSICIAN,
    # the establishment: vouchers (its own redemptions only); the print shop approves establishments
    ("POST", "/api/v1/redemptions"): ESTABLISHMENT,
    ("POST", "/api/v1/redemptions/preview"): ESTABLISHMENT,
    ("GET", "/api/v1/redemptions"): ESTABLISHMENT,
    ("DELETE", "/api/v1/redemptions/{redemption_id}"): ESTABLISHMENT,
    ("GET", "/api/v1/staff/establishments"): OPERATOR,
    ("POST", "/api/v1/staff/establishments/{establishment_id}/approve"): OPERATOR,
    # staff accounts
    ("POST", "/api/v1/staff/sessions"): EVERYONE,
    ("DELETE", "/api/v1/staff/sessions/current"): STAFF,
    ("GET", "/api/v1/staff/me"): STAFF,
    ("GET", "/api/v1/staff/audit"): ADMIN,
    # EU DCC: the answer holds no more than the QR code it was given, as verifier apps are open to all
    ("POST", "/api/v1/dcc/verify"): EVERYONE,
    # the certificate verifier's page: what the API answers, valid or not with the name and birth date
    ("GET", "/verify"): EVERYONE,
    ("POST", "/verify"): EVERYONE,
    # the citizen's pages (session cookie)
    ("GET", "/"): EVERYONE,
    ("GET", "/c/{code}"): EVERYONE,
    ("POST", "/code"): EVERYONE,
    ("GET", "/bookings"): CITIZENS,
    ("POST", "/leave"): CITIZENS,
    ("GET", "/book/{dose}"): CITIZENS,
    ("GET", "/book/{dose}/questions"): CITIZENS,
    ("POST", "/book/{dose}/questions"): CITIZENS,
    ("GET", "/book/{dose}/centre"): CITIZENS,
    ("GET", "/book/{dose}/day"): CITIZENS,
    ("GET", "/book/{dose}/time"): CITIZENS,
    ("POST", "/book/{dose}"): CITIZENS,
    ("GET", "/bookings/{booking_id}"): CITIZENS,
    ("GET", "/bookings/{booking_id}/move"): CITIZENS,
    ("GET", "/bookings/{booking_id}/move/centre"): CITIZENS,
    ("GET", "/bookings/{booking_id}/move/day"): CITIZENS,
    ("GET", "/bookings/{booking_id}/move/time"): CITIZENS,
    ("POST", "/bookings/{booking_id}/move"): CITIZENS,
    ("GET", "/bookings/{booking_id}/cancel"): CITIZENS,
    ("POST", "/bookings/{booking_id}/cancel"): CITIZENS,
    ("GET", "/bookings/{booking_id}/confirmation.pdf"): CITIZENS,
    ("GET", "/request"): EVERYONE,
    ("POST", "/request"): EVERYONE,
    # staff pages (staff session cookie)
    ("GET", "/staff/sign-in"): EVERYONE,
    ("POST", "/staff/sign-in"): EVERYONE,
    ("POST", "/staff/sign-out"): STAFF,
    ("GET", "/staff"): STAFF,
    ("GET", "/reception"): RECEPTION,
    # the desk's service worker: code, as public as the /static/ files it keeps
    ("GET", "/reception/sw.js"): EVERYONE,
    ("POST", "/reception/lookup"): RECEPTION,
    ("POST", "/reception/checkins"): RECEPTION,
    ("GET", "/reception/day"): CENTRE,
    ("POST", "/reception/day/no-shows"): RECEPTION,
    ("GET", "/physician"): PHYSICIAN,
    ("GET", "/physician/checkins/{checkin_id}"): PHYSICIAN,
    ("POST", "/physician/checkins/{checkin_id}/vaccinations"): PHYSICIAN,
    ("POST", "/physician/checkins/{checkin_id}/next-dose"): PHYSICIAN,
    ("GET", "/physician/vaccinations/{record_id}/correct"): PHYSICIAN,
    ("POST", "/physician/vaccinations/{record_id}/correct"): PHYSICIAN,
    # the dashboards and the audit log's page
    ("GET", "/staff/operator"): OPERATOR,
    ("POST", "/staff/operator/jobs/{job}/mark"): OPERATOR,
    ("POST", "/staff/operator/results"): OPERATOR,
    ("POST", "/staff/operator/requests/{request_id}/approve"): OPERATOR,
    ("POST", "/staff/operator/requests/{request_id}/reject"): OPERATOR,
    ("POST", "/staff/operator/compose"): OPERATOR,
    ("POST", "/staff/operator/reprint"): OPERATOR,
    ("GET", "/staff/operator/tasks"): OPERATOR,
    ("GET", "/staff/operator/tasks/{task_id}"): OPERATOR,
    ("POST", "/staff/operator/tasks/{task_id}/cancel"): OPERATOR,
    ("POST", "/staff/operator/tasks/{task_id}/acknowledge"): OPERATOR,
    ("GET", "/staff/ministry"): MINISTRY,
    ("GET", "/staff/ministry/{table}.csv"): MINISTRY,
    ("GET", "/staff/audit"): ADMIN,
    ("GET", "/staff/audit.csv"): ADMIN,
    ("GET", "/establishment"): ESTABLISHMENT,
    ("POST", "/establishment/check"): ESTABLISHMENT,
    ("POST", "/establishment/redemptions"): ESTABLISHMENT,
    ("POST", "/establishment/redemptions/{redemption_id}/undo"): ESTABLISHMENT,
    ("GET", "/establishment/statements"): ESTABLISHMENT,
    ("GET", "/establishment/statements/{name}"): ESTABLISHMENT,
    ("GET", "/establishments/register"): EVERYONE,
    ("POST", "/establishments/register"): EVERYONE,
    ("GET", "/helpline"): HELPLINE,
    ("POST", "/helpline/callers"): HELPLINE,
    **{
        (method, "/helpline/callers/{ref}" + tail): HELPLINE
        for method, tail in [
            ("GET", ""),
            ("GET", "/book/{dose}"),
            ("GET", "/book/{dose}/questions"),
            ("POST", "/book/{dose}/questions"),
            ("GET", "/book/{dose}/centre"),
            ("GET", "/book/{dose}/day"),
            ("GET", "/book/{dose}/time"),
            ("POST", "/book/{dose}"),
            ("GET", "/bookings/{booking_id}"),
            ("GET", "/bookings/{booking_id}/confirmation.pdf"),
            ("GET", "/bookings/{booking_id}/move"),
            ("GET", "/bookings/{booking_id}/move/centre"),
            ("GET", "/bookings/{booking_id}/move/day"),
            ("GET", "/bookings/{booking_id}/move/time"),
            ("POST", "/bookings/{booking_id}/move"),
            ("GET", "/bookings/{booking_id}/cancel"),
            ("POST", "/bookings/{booking_id}/cancel"),
        ]
    },
}
# Made-up values for path parameters: the door is checked before anything is looked up.
PARAMETERS = {
    "booking_id": "1",
    "caller": "1",
    "request_id": "1",
    "dose": "1",
    "code": "ABCDEFGHJKMNPQ",
    "ref": "1-x",
    "centre_id": "C01",
    "checkin_id": "1",
    "record_id": "1",
    "job": "J000001",
    "table": "sent",
    "redemption_id": "1",
    "establishment_id": "E01",
    "name": "20210101-00001.pdf",
    "task_id": "1",
}
# Query parameters a route needs before it reads who calls.
QUERIES = {"/api/v1/slots": {"centre": "LUX-VH", "date": "2021-01-25"}}
# Ends the staff sessions the other routes use: tried last.
LAST = ("DELETE", "/api/v1/staff/sessions/current")


def routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, pattern) of every route (static files aside). The app's routes are added one by one
    (web/routing.py): an entry that is neither a route nor a mount fails here instead of being skipped."""

    def walk(found: list[Any], prefix: str) -> Iterator[tuple[str, str]]:
        for route in found:
            if getattr(route, "methods", None):
                for method in sorted(route.methods - {"HEAD"}):
                    yield method, prefix + route.path
            elif hasattr(route, "routes") and not hasattr(route, "app"):
                yield from walk(route.routes, prefix + getattr(route, "path", ""))
            elif not hasattr(route, "app"):  # a mount's app (the static files) has no rule
                raise AssertionError(f"an entry of the app's routes this test cannot walk: {route!r}")

    return walk(app.routes, "")


def _refused(answer: Any) -> bool:
    if answer.status_code == 401:
        return True
    if answer.status_code == 403 and answer.headers.get("content-type", "").startswith("application/json"):
        return bool(answer.json()["error"]["code"] == "forbidden")
    if answer.status_code == 403:  # a page: the refusal's code is on the error page
        return 'data-code="forbidden"' in answer.text
    # Back to the code form, the session kept (leaving also goes there, but ends the session), or to the
    # staff sign-in.
    location = answer.headers.get("location", "").split("?")[0]
    ended = "courrier_citizen" in answer.headers.get("set-cookie", "")
    redirected = answer.status_code in (302, 303, 307)
    return redirected and ((location == "/" and not ended) or location == "/staff/sign-in")


def test_every_route_has_a_rule(client: TestClient):
    found = set(routes(client.app))  # type: ignore[arg-type]
    assert len(found) >= 40
    assert sorted(found - set(RULES)) == [], "a new route: say in RULES who may call it"
    assert sorted(set(RULES) - found) == [], "a rule for a route that no longer exists"


def test_every_route_lets_in_exactly_whom_its_rule_says(client: TestClient, make_world, staff_tokens, keys):
    world = make_world(people=1)
    token = citizen_token(client, world.codes[0][1])
    callers: dict[str, tuple[dict[str, str], dict[str, str]]] = {ANONYMOUS: ({}, {})}
    callers[CITIZEN] = ({"Authorization": f"Bearer {token}"}, {"courrier_citizen": token})
    for role, staff_token in staff_tokens.items():
        # The API reads the Bearer token, the pages the staff cookie.
        callers[role] = (bearer(staff_token), {"courrier_staff": staff_token})
    wrong = []
    order = sorted(routes(client.app), key=lambda route: (route == LAST, route))  # type: ignore[arg-type]
    for method, pattern in order:
        path = pattern.format(**PARAMETERS)
        is_page = not pattern.startswith("/api/") and pattern != "/health"
        for caller, (headers, cookies) in callers.items():
            client.cookies.clear()
            for name, value in cookies.items():
                client.cookies.set(name, value)
            options: dict[str, Any] = {
                "headers": headers,
                "follow_redirects": False,
                "params": QUERIES.get(pattern, {}),
            }
            if method in ("POST", "DELETE") and is_page:
                # The citizen's form token, so that a refusal can only be about who calls.
                options["data"] = {csrf.FIELD: csrf.sign(keys, "citizen", token)}
            elif method == "POST":
                options["json"] = {}
            answer = client.request(method, path, **options)
            assert answer.status_code < 500, (method, pattern, caller, answer.text[:300])
            allowed = caller in RULES.get((method, pattern), frozenset())
            if allowed == _refused(answer):
                wrong.append(f"{method} {pattern} as {caller}: {answer.status_code} (allowed: {allowed})")
    client.cookies.clear()
    assert wrong == [], "\n".join(wrong)
