"""The API's staff routes and the pages' cookie: a browser sends the cookie with any site's form, so a
write with the cookie alone needs the session's CSRF token in ``X-CSRF-Token``; a Bearer token needs none."""

from __future__ import annotations

import secrets

from fastapi.testclient import TestClient

from courrier.accounts.audit import list_audit

from .conftest import PASSWORD, bearer

STAFF_COOKIE = "courrier_staff"
EVIL = {"Origin": "https://evil.example", "Referer": "https://evil.example/win-a-prize"}


def _signed_in(client: TestClient) -> tuple[str, str]:
    answer = client.post("/api/v1/staff/sessions", json={"username": "helpline1", "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    client.cookies.set(STAFF_COOKIE, answer.json()["token"])
    return answer.json()["token"], answer.json()["csrf_token"]


def _refused(answer) -> None:
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["code"] == "bad_csrf_token"


def test_a_cross_site_form_post_with_the_staff_cookie_is_refused(
    client: TestClient, make_world, engine, staff_tokens
):
    world = make_world()
    token, csrf_token = _signed_in(client)
    # What another site's hidden form would send: the cookie, a form body, no header of ours.
    _refused(client.post("/api/v1/helpline/callers", data={"code": world.codes[0][1]}, headers=EVIL))
    _refused(client.post("/api/v1/helpline/callers", json={"code": world.codes[0][1]}))
    _refused(client.delete("/api/v1/staff/sessions/current", headers=EVIL))
    with engine.connect() as connection:
        assert list_audit(connection, username="helpline1") == []
    # Reading with the cookie is fine; the session was not ended by the forged sign-out.
    assert client.get("/api/v1/staff/me").json()["username"] == "helpline1"
    # The page's own script: the cookie and the session's CSRF token in the header.
    found = client.post(
        "/api/v1/helpline/callers", json={"code": world.codes[0][1]}, headers={"X-CSRF-Token": csrf_token}
    )
    assert found.status_code == 200, found.text
    # A Bearer token needs no CSRF token (no browser sends it on its own).
    client.cookies.clear()
    by_token = client.post(
        "/api/v1/helpline/callers", json={"code": world.codes[0][1]}, headers=bearer(token)
    )
    assert by_token.status_code == 200, by_token.text
    # Another session's CSRF token does not do.
    client.cookies.set(STAFF_COOKIE, token)
    other = client.post("/api/v1/staff/sessions", json={"username": "admin1", "password": PASSWORD}).json()
    client.cookies.set(STAFF_COOKIE, token)
    _refused(
        client.post(
            "/api/v1/helpline/callers",
            json={"code": world.codes[0][1]},
            headers={"X-CSRF-Token": other["csrf_token"]},
        )
    )
    signed_out = client.delete("/api/v1/staff/sessions/current", headers={"X-CSRF-Token": csrf_token})
    assert signed_out.status_code == 204
    assert client.get("/api/v1/staff/me").status_code == 401


def test_any_other_csrf_header_is_refused(client: TestClient, make_world, staff_tokens):
    world = make_world(people=1)
    _token, csrf_token = _signed_in(client)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    mutants = {"", " ", csrf_token.upper(), csrf_token + "x", csrf_token[:-1], " " + csrf_token}
    while len(mutants) < 200:
        kind = secrets.randbelow(3)
        if kind == 0:  # one character changed
            at = secrets.randbelow(len(csrf_token))
            mutants.add(csrf_token[:at] + secrets.choice(alphabet) + csrf_token[at + 1 :])
        elif kind == 1:  # random text of a random length
            mutants.add(secrets.token_urlsafe(secrets.randbelow(64) + 1))
        else:  # a prefix or a longer string
            mutants.add(
                csrf_token[: secrets.randbelow(len(csrf_token))] + secrets.token_hex(secrets.randbelow(4))
            )
    mutants.discard(csrf_token)
    for mutant in sorted(mutants):
        answer = client.post(
            "/api/v1/helpline/callers", json={"code": world.codes[0][1]}, headers={"X-CSRF-Token": mutant}
        )
        assert answer.status_code == 403, (mutant, answer.text)
        assert answer.json()["error"]["code"] == "bad_csrf_token", mutant
