"""The citizen's API: a session from the printed code, free slots, booking doses, cancel, move."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from courrier.codes.format import format_code, random_codes
from courrier.db.schema import slots

from .conftest import SLOT_DAY, bearer, citizen_token, first_slot


def test_the_code_as_printed_in_any_case_with_look_alikes_opens_a_session(client: TestClient, make_world):
    world = make_world()
    code = world.codes[0][1]
    for typed in (format_code(code), code.lower(), " ".join(format_code(code).split("-"))):
        answer = client.post("/api/v1/sessions", json={"code": typed})
        assert answer.status_code == 201, (typed, answer.text)
        assert answer.json()["campaign"] == world.campaign
        assert answer.json()["language"] == "fr"
    # A D typed as 0 (which no code uses): forgiven when exactly one reading is a code.
    with_d = next((c for _, c in world.codes if "D" in c[:13]), None)
    if with_d is not None:
        typed = with_d.replace("D", "0", 1)
        assert client.post("/api/v1/sessions", json={"code": typed}).status_code == 201


def test_refused_codes_say_why(client: TestClient, make_world):
    world = make_world()
    code = world.codes[0][1]
    wrong_length = client.post("/api/v1/sessions", json={"code": code[:-2]})
    assert wrong_length.json()["error"]["code"] == "wrong_length"
    # One character of the second group changed: the check character catches it and says which group.
    position = 5
    replacement = "2" if code[position] != "2" else "3"
    typo = code[:position] + replacement + code[position + 1 :]
    answer = client.post("/api/v1/sessions", json={"code": typo})
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "bad_check_character"
    assert answer.json()["error"]["group"] == "2"
    answer = client.post("/api/v1/sessions?lang=de", json={"code": typo})
    assert "Zeichen" in answer.json()["error"]["message"] or answer.json()["error"]["message"]


def test_book_dose_1_then_dose_2_in_its_window_then_cancel(client: TestClient, make_world, engine):
    world = make_world()
    token = citizen_token(client, world.codes[0][1])
    centres = client.get("/api/v1/centres").json()["centres"]
    assert len(centres) == 5
    free = client.get(
        "/api/v1/slots", params={"centre": "LUX-VH", "date": SLOT_DAY.isoformat()}, headers=bearer(token)
    ).json()["slots"]
    assert free[0]["remaining"] == 16
    booked = client.post("/api/v1/bookings", json={"slot": free[0]["id"], "dose": 1}, headers=bearer(token))
    assert booked.status_code == 201, booked.text
    assert len(booked.json()["reference"]) == 8
    again = client.post("/api/v1/bookings", json={"slot": free[1]["id"], "dose": 1}, headers=bearer(token))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_booked"
    too_early = first_slot(engine, world.campaign_id, day=SLOT_DAY + dt.timedelta(days=7))
    refused = client.post("/api/v1/bookings", json={"slot": too_early, "dose": 2}, headers=bearer(token))
    assert refused.json()["error"]["code"] == "outside_dose_window"
    in_window = first_slot(engine, world.campaign_id, day=SLOT_DAY + dt.timedelta(days=28))
    dose2 = client.post("/api/v1/bookings", json={"slot": in_window, "dose": 2}, headers=bearer(token))
    assert dose2.status_code == 201, dose2.text
    listed = client.get("/api/v1/bookings", headers=bearer(token)).json()["bookings"]
    assert [(b["dose"], b["state"]) for b in listed] == [(1, "active"), (2, "active")]
    cancelled = client.delete(f"/api/v1/bookings/{booked.json()['id']}", headers=bearer(token))
    assert cancelled.json()["state"] == "cancelled"
    listed = client.get("/api/v1/bookings", headers=bearer(token)).json()["bookings"]
    assert [b["state"] for b in listed] == ["cancelled", "cancelled"]
    with engine.connect() as connection:
        assert connection.execute(select(slots.c.taken).where(slots.c.id == free[0]["id"])).scalar_one() == 0


def test_move_gives_the_old_place_back(client: TestClient, make_world, engine):
    world = make_world()
    token = citizen_token(client, world.codes[0][1])
    old = first_slot(engine, world.campaign_id)
    new = first_slot(engine, world.campaign_id, centre="ESCH-HALL")
    booked = client.post("/api/v1/bookings", json={"slot": old, "dose": 1}, headers=bearer(token)).json()
    moved = client.post(f"/api/v1/bookings/{booked['id']}/move", json={"slot": new}, headers=bearer(token))
    assert moved.status_code == 200, moved.text
    assert moved.json()["centre"]["id"] == "ESCH-HALL"
    assert moved.json()["reference"] == booked["reference"]
    with engine.connect() as connection:
        taken = dict(
            connection.execute(select(slots.c.id, slots.c.taken).where(slots.c.id.in_([old, new]))).all()
        )
    assert taken == {old: 0, new: 1}


def test_an_idempotency_key_gives_the_first_answer_again(client: TestClient, make_world, engine):
    world = make_world()
    token = citizen_token(client, world.codes[0][1])
    slot = first_slot(engine, world.campaign_id)
    headers = bearer(token) | {"Idempotency-Key": "retry-1"}
    first = client.post("/api/v1/bookings", json={"slot": slot, "dose": 1}, headers=headers)
    second = client.post("/api/v1/bookings", json={"slot": slot, "dose": 1}, headers=headers)
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json() == first.json()


def test_bookings_need_a_citizen_session(client: TestClient, make_world, staff_tokens):
    world = make_world()
    for headers in ({}, bearer("forged"), bearer(staff_tokens["admin"])):
        answer = client.post("/api/v1/bookings", json={"slot": 1, "dose": 1}, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json()["error"]["code"] == "bad_session"
        assert client.get("/api/v1/bookings", headers=headers).status_code == 401
    # Another code's booking is not found with one's own session.
    token_a = citizen_token(client, world.codes[0][1])
    token_b = citizen_token(client, world.codes[1][1])
    slot = client.get(
        "/api/v1/slots", params={"centre": "LUX-VH", "date": SLOT_DAY.isoformat()}, headers=bearer(token_a)
    ).json()["slots"][0]["id"]
    booked = client.post("/api/v1/bookings", json={"slot": slot}, headers=bearer(token_a)).json()
    assert client.delete(f"/api/v1/bookings/{booked['id']}", headers=bearer(token_b)).status_code == 404


# Guesses in flight at once: an attacker does not wait for each answer. Their check of the block and the
# count of their failure race, so a few more than the limit's 20 may be answered before the block holds.
GUESSERS = 16


@pytest.mark.slow
def test_random_guesses_get_no_session_and_are_throttled(client: TestClient, make_world):
    import asyncio
    import concurrent.futures
    import secrets

    import httpx

    make_world()
    guesses = [
        random_codes(1, secrets.token_bytes)[0] if secrets.randbelow(2) else secrets.token_hex(7)
        for _ in range(10_000)
    ]

    async def guess_all() -> list[int]:
        # The app in this process, from one client address, GUESSERS requests in flight (an async client:
        # the synchronous test client's thread hand-overs cost more than the app's own work).
        transport = httpx.ASGITransport(app=client.app, client=("203.0.113.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as guesser:
            free = asyncio.Semaphore(GUESSERS)

            async def one(guess: str) -> int:
                async with free:
                    return (await guesser.post("/api/v1/sessions", json={"code": guess})).status_code

            return await asyncio.gather(*(one(guess) for guess in guesses))

    statuses: dict[int, int] = {}
    # A thread of its own: in a pytest worker that already ran a browser test, Playwright's event loop is
    # running in this thread, and asyncio.run refuses to start a second one here.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        answers = pool.submit(lambda: asyncio.run(guess_all())).result()
    for status in answers:
        statuses[status] = statuses.get(status, 0) + 1
    assert sum(statuses.values()) == 10_000
    assert 201 not in statuses
    assert statuses[429] >= 9_900


def test_the_holder_is_not_locked_out_by_another_clients_guesses(make_client, make_world):
    world = make_world()
    attacker = make_client()
    for guess in random_codes(50):
        attacker.post("/api/v1/sessions", json={"code": guess})
    assert attacker.post("/api/v1/sessions", json={"code": world.codes[0][1]}).status_code == 429
    holder = TestClient(attacker.app, client=("192.0.2.9", 50000))
    assert holder.post("/api/v1/sessions", json={"code": world.codes[0][1]}).status_code == 201
