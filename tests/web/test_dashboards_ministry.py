"""No route gives the ministry a person: every route of the app (its own route table, walked as the
route-access test walks it) is called as a ministry account on a campaign with letters posted,
bookings, check-ins and doses, and no answer may hold a name, an address, a
matricule, a personal code, a booking reference or a person's id."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from courrier.codes.format import format_code
from courrier.db.schema import bookings, persons
from courrier.web.pages import csrf

from .conftest import bearer
from .test_dashboards import running, sign_in
from .test_route_access import PARAMETERS, QUERIES, routes

__all__ = ["running", "sign_in"]


def _personal_data(engine, world) -> list[str]:
    """What would single someone out: their names and street (made unique here, so that no page's
    own words match them), matricule, code in both spellings, booking references."""
    found: list[str] = []
    with engine.begin() as connection:
        for row in connection.execute(select(persons.c.id, persons.c.national_id)).all():
            connection.execute(
                persons.update()
                .where(persons.c.id == row.id)
                .values(
                    family_name=f"Qxfamily{row.id}",
                    given_names=f"Qxgiven{row.id}",
                    street=f"Qxstreet {row.id}",
                )
            )
            found += [f"Qxfamily{row.id}", f"Qxgiven{row.id}", f"Qxstreet {row.id}", row.national_id]
        found += list(connection.execute(select(bookings.c.reference)).scalars())
    for _code_id, code in world.codes:
        found += [code, format_code(code)]
    return found


def test_no_route_gives_the_ministry_a_person(client, sign_in, running, engine, keys):
    personal = _personal_data(engine, running)
    sign_in(client, "ministry")
    token = client.cookies.get("courrier_staff")
    assert token
    leaks = []
    called = 0
    for method, pattern in sorted(routes(client.app)):  # type: ignore[arg-type]
        if (method, pattern) == ("DELETE", "/api/v1/staff/sessions/current"):
            continue  # signs the ministry out: nothing to see
        path = pattern.format(**PARAMETERS)
        options: dict[str, Any] = {
            "headers": bearer(token) if pattern.startswith("/api/") else {},
            "params": QUERIES.get(pattern, {}),
        }
        if method == "POST" and not pattern.startswith("/api/"):
            options["data"] = {csrf.FIELD: csrf.sign(keys, "citizen", "x")}
        elif method == "POST":
            options["json"] = {}
        answer = client.request(method, path, **options)
        called += 1
        assert answer.status_code < 500, (method, pattern, answer.text[:300])
        body = answer.content.decode("utf-8", errors="replace")
        for value in personal:
            if value in body:
                leaks.append(f"{method} {pattern}: {value}")
        if re.search(r'"person(_id)?"\s*:', body) or re.search(r"person:\d+", body):
            leaks.append(f"{method} {pattern}: a person's id")
    assert called >= 60
    assert leaks == []
    # The dashboard itself was among them, and answered with its counts.
    page = client.get("/staff/ministry", params={"lang": "en"})
    assert page.status_code == 200
    assert 'id="table-days"' in page.text
