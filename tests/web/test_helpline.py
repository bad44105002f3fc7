"""The helpline books, moves and cancels for a caller, under the citizen's rules, every step audited;
and who may call it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from courrier.accounts.audit import list_audit
from courrier.accounts.roles import ROLES

from .conftest import bearer, citizen_token, first_slot


def test_helpline_finds_a_caller_and_books_moves_cancels_audited(
    client: TestClient, make_world, engine, staff_tokens
):
    world = make_world()
    headers = bearer(staff_tokens["helpline"])
    caller = client.post(
        "/api/v1/helpline/callers", json={"code": world.codes[0][1].lower()}, headers=headers
    )
    assert caller.status_code == 200, caller.text
    caller_id = caller.json()["caller"]
    assert caller.json()["bookings"] == []
    slot = first_slot(engine, world.campaign_id)
    booked = client.post(
        f"/api/v1/helpline/callers/{caller_id}/bookings", json={"slot": slot}, headers=headers
    )
    assert booked.status_code == 201, booked.text
    again = client.post(
        f"/api/v1/helpline/callers/{caller_id}/bookings", json={"slot": slot}, headers=headers
    )
    assert again.json()["error"]["code"] == "already_booked"
    other = first_slot(engine, world.campaign_id, centre="MERSCH")
    booking_id = booked.json()["id"]
    moved = client.post(
        f"/api/v1/helpline/callers/{caller_id}/bookings/{booking_id}/move",
        json={"slot": other},
        headers=headers,
    )
    assert moved.json()["centre"]["id"] == "MERSCH"
    cancelled = client.delete(f"/api/v1/helpline/callers/{caller_id}/bookings/{booking_id}", headers=headers)
    assert cancelled.json()["state"] == "cancelled"
    # The caller sees what the helpline did.
    token = citizen_token(client, world.codes[0][1])
    assert client.get("/api/v1/bookings", headers=bearer(token)).json()["bookings"][0]["state"] == "cancelled"
    with engine.connect() as connection:
        actions = [entry.action for entry in reversed(list_audit(connection, username="helpline1"))]
    assert actions == ["code.viewed", "booking.created", "booking.moved", "booking.cancelled"]


@pytest.mark.parametrize("caller", [*ROLES, "anonymous", "citizen"])
def test_only_helpline_and_admin_may_use_the_helpline(client: TestClient, make_world, staff_tokens, caller):
    world = make_world()
    if caller == "anonymous":
        headers = {}
    elif caller == "citizen":
        headers = bearer(citizen_token(client, world.codes[0][1]))
    else:
        headers = bearer(staff_tokens[caller])
    answer = client.post("/api/v1/helpline/callers", json={"code": world.codes[0][1]}, headers=headers)
    expected = 200 if caller in ("helpline", "admin") else 401 if caller in ("anonymous", "citizen") else 403
    assert answer.status_code == expected, answer.text
    for method, path in (
        ("POST", "/api/v1/helpline/callers/1/bookings"),
        ("POST", "/api/v1/helpline/callers/1/bookings/1/move"),
        ("DELETE", "/api/v1/helpline/callers/1/bookings/1"),
    ):
        status = client.request(method, path, json={"slot": 1}, headers=headers).status_code
        if expected != 200:
            assert status == expected, (method, path)
