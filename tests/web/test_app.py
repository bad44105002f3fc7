"""The web layer under every service: health, headers, errors, OpenAPI, staff sign-in and roles."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from courrier.accounts.roles import ROLES
from courrier.accounts.users import LOGIN_LIMIT

from .conftest import PASSWORD, add_staff, bearer


def test_health_answers_with_the_security_headers(client: TestClient):
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_openapi_lists_the_api(client: TestClient):
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/staff/sessions" in spec["paths"]


def test_an_unknown_route_is_a_json_error(client: TestClient):
    answer = client.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_a_malformed_body_is_a_json_error_naming_the_field(client: TestClient):
    answer = client.post("/api/v1/staff/sessions", json={"username": "x"})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_request"
    assert "password" in answer.json()["error"]["message"]


def test_staff_sign_in_and_out(engine, client: TestClient):
    add_staff(engine, "alice", "operator")
    answer = client.post("/api/v1/staff/sessions", json={"username": "alice", "password": PASSWORD})
    assert answer.status_code == 201
    token = answer.json()["token"]
    assert client.get("/api/v1/staff/me", headers=bearer(token)).json()["role"] == "operator"
    assert client.delete("/api/v1/staff/sessions/current", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/staff/me", headers=bearer(token)).status_code == 401


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(engine, client: TestClient):
    add_staff(engine, "alice", "operator")
    wrong = client.post("/api/v1/staff/sessions", json={"username": "alice", "password": "nope" * 4})
    unknown = client.post("/api/v1/staff/sessions", json={"username": "bob", "password": "nope" * 4})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_sign_in_is_throttled_and_the_block_ends(engine, client: TestClient, clock):
    add_staff(engine, "alice", "operator")
    for _ in range(LOGIN_LIMIT.failures):
        client.post("/api/v1/staff/sessions", json={"username": "alice", "password": "wrong" * 3})
    blocked = client.post("/api/v1/staff/sessions", json={"username": "alice", "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    clock.now += dt.timedelta(seconds=LOGIN_LIMIT.block_s + 1)
    ok = client.post("/api/v1/staff/sessions", json={"username": "alice", "password": PASSWORD})
    assert ok.status_code == 201


def test_a_disabled_account_loses_its_sessions(engine, client: TestClient):
    from courrier.accounts.users import disable_user
    from courrier.db.transaction import write_transaction

    add_staff(engine, "alice", "helpline")
    token = client.post("/api/v1/staff/sessions", json={"username": "alice", "password": PASSWORD}).json()[
        "token"
    ]
    with write_transaction(engine) as connection:
        disable_user(connection, "alice", now=dt.datetime.now(dt.UTC))
    assert client.get("/api/v1/staff/me", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("role", [*ROLES, None])
def test_only_admin_reads_the_audit_log(client: TestClient, staff_tokens: dict[str, str], role):
    headers = bearer(staff_tokens[role]) if role else {}
    answer = client.get("/api/v1/staff/audit", headers=headers)
    expected = {None: 401, "admin": 200}.get(role, 403)
    assert answer.status_code == expected, answer.text


def test_no_two_routes_answer_one_path_and_method(client: TestClient):
    """The app includes its busiest routers first (web/app.py): that is only a matter of cost while no
    route's pattern matches another route's path with one of its methods."""

    def routes(found: list[Any]) -> list[Any]:
        flat = []
        for route in found:
            if getattr(route, "methods", None) and hasattr(route, "path_regex"):
                flat.append(route)
            elif hasattr(route, "routes"):  # a mount (the static files: none)
                flat.extend(routes(route.routes))
            else:  # not skipped unseen: an included router (web/routing.py adds routes one by one)
                raise AssertionError(f"an entry of the app's routes this test cannot walk: {route!r}")
        return flat

    every = routes(client.app.router.routes)
    assert len(every) > 100
    for route in every:
        for other in every:
            example = re.sub(r"\{[^}]+\}", "1", other.path)
            if other is not route and route.methods & other.methods:
                assert not route.path_regex.match(example), (route.path, other.path)
