"""Dose 2 after the code's two weeks: an expired code whose campaign allows it, and whose dose 1 is booked,
opens a session for dose 2 only (book, move, cancel); otherwise it is refused as before. Through the API,
the pages and the helpline."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from courrier.booking.policy import set_booking_policy
from courrier.codes.format import format_code
from courrier.db.schema import codes
from courrier.db.transaction import write_transaction

from .conftest import NOW, SLOT_DAY, bearer, citizen_token, first_slot
from .pages import book_through_forms, enter_code, form_token, link

DOSE2_DAY = SLOT_DAY + dt.timedelta(days=28)  # inside dose 2's window (21 to 42 days after dose 1)


def _expire_codes(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(codes.update().values(valid_until=NOW.date() - dt.timedelta(days=1)))


def _book_dose1(client: TestClient, engine: Engine, campaign_id: int, code: str) -> dict:
    token = citizen_token(client, code)
    slot = first_slot(engine, campaign_id)
    booked = client.post("/api/v1/bookings", json={"slot": slot, "dose": 1}, headers=bearer(token))
    assert booked.status_code == 201, booked.text
    return booked.json()


def _refused(answer, code: str) -> None:
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["code"] == code


def test_an_expired_code_with_dose_1_booked_opens_a_session_for_dose_2_only(
    client: TestClient, make_world, engine
):
    world = make_world()
    dose1 = _book_dose1(client, engine, world.campaign_id, world.codes[0][1])
    _expire_codes(engine)
    # Without a dose-1 booking an expired code opens nothing, as before.
    _refused(client.post("/api/v1/sessions", json={"code": world.codes[1][1]}), "code_expired")

    opened = client.post("/api/v1/sessions", json={"code": format_code(world.codes[0][1]).lower()})
    assert opened.status_code == 201, opened.text
    assert opened.json()["dose2_only"] is True
    token = opened.json()["token"]
    assert [b["dose"] for b in client.get("/api/v1/bookings", headers=bearer(token)).json()["bookings"]] == [
        1
    ]
    # Nothing new for dose 1: not moved (nor, once cancelled, booked again).
    other = first_slot(engine, world.campaign_id, centre="ESCH-HALL")
    moved = client.post(f"/api/v1/bookings/{dose1['id']}/move", json={"slot": other}, headers=bearer(token))
    _refused(moved, "code_expired")
    # Dose 2: booked, moved, cancelled; the places follow.
    slot = first_slot(engine, world.campaign_id, day=DOSE2_DAY)
    dose2 = client.post("/api/v1/bookings", json={"slot": slot, "dose": 2}, headers=bearer(token))
    assert dose2.status_code == 201, dose2.text
    later = first_slot(engine, world.campaign_id, centre="ESCH-HALL", day=DOSE2_DAY)
    moved = client.post(
        f"/api/v1/bookings/{dose2.json()['id']}/move", json={"slot": later}, headers=bearer(token)
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["reference"] == dose2.json()["reference"]
    cancelled = client.delete(f"/api/v1/bookings/{dose2.json()['id']}", headers=bearer(token))
    assert cancelled.json()["state"] == "cancelled"
    again = client.post("/api/v1/bookings", json={"slot": slot, "dose": 2}, headers=bearer(token))
    assert again.status_code == 201, again.text


def test_an_expired_code_opens_nothing_when_the_campaign_does_not_allow_dose_2_after_it(
    client: TestClient, make_world, engine
):
    world = make_world()
    opened = client.post("/api/v1/sessions", json={"code": world.codes[0][1]})
    assert opened.json()["dose2_only"] is False
    _book_dose1(client, engine, world.campaign_id, world.codes[0][1])
    _book_dose1(client, engine, world.campaign_id, world.codes[1][1])
    with write_transaction(engine) as connection:
        set_booking_policy(connection, world.campaign_id, actor="t", now=NOW, dose2_after_expiry=False)
    _expire_codes(engine)
    _refused(client.post("/api/v1/sessions", json={"code": world.codes[0][1]}), "code_expired")
    assert 'id="code-error"' in enter_code(client, world.codes[0][1], lang="en").text
    # Allowed again: the session opens; a revoked code never does, dose 1 or not.
    with write_transaction(engine) as connection:
        set_booking_policy(connection, world.campaign_id, actor="t", now=NOW, dose2_after_expiry=True)
        connection.execute(codes.update().where(codes.c.id == world.codes[1][0]).values(status="revoked"))
    assert client.post("/api/v1/sessions", json={"code": world.codes[0][1]}).status_code == 201
    _refused(client.post("/api/v1/sessions", json={"code": world.codes[1][1]}), "code_revoked")


def test_the_pages_of_an_expired_code_offer_dose_2_only(client: TestClient, make_world, engine):
    world = make_world()
    _book_dose1(client, engine, world.campaign_id, world.codes[0][1])
    client.cookies.clear()
    _expire_codes(engine)
    entered = enter_code(client, world.codes[0][1], lang="en")
    assert entered.status_code == 303, entered.text
    assert entered.headers["location"] == "/bookings"
    mine = client.get("/bookings").text
    assert 'id="dose2-only"' in mine
    assert 'id="book-dose-1"' not in mine
    dose1_page = client.get(link(mine, re.search(r'id="(open-booking-\d+)"', mine).group(1))).text  # type: ignore[union-attr]
    assert 'id="move-booking"' not in dose1_page
    assert 'id="book-dose-2"' in dose1_page
    # Dose 1's steps are refused at once, in the person's language, with the way back and out.
    for path in ("/book/1", "/book/1/centre", "/book/1/day?centre=LUX-VH"):
        refused = client.get(path)
        assert refused.status_code == 409, path
        assert 'data-code="code_expired"' in refused.text
        assert 'id="leave-form"' in refused.text
    dose1_id = int(re.search(r'id="open-booking-(\d+)"', mine).group(1))  # type: ignore[union-attr]
    assert client.get(f"/bookings/{dose1_id}/move/centre").status_code == 409
    # Dose 2: booked from dose 1's page, moved, cancelled through the forms.
    booked = book_through_forms(client, link(dose1_page, "book-dose-2"), "LUX-VH", day_index=0)
    assert booked.status_code == 303, booked.text
    dose2_page = client.get(booked.headers["location"]).text
    assert "dose 2" in dose2_page
    moved = book_through_forms(client, link(dose2_page, "move-booking"), "ESCH-HALL")
    assert moved.status_code == 303, moved.text
    cancel = client.get(link(client.get(moved.headers["location"]).text, "cancel-booking")).text
    assert 'id="not-rebookable"' not in cancel  # dose 2 can be booked again
    action = re.search(r'id="cancel-form" method="post" action="([^"]*)"', cancel)
    assert action
    done = client.post(action.group(1), data={"csrf_token": form_token(cancel)}, follow_redirects=False)
    assert done.status_code == 303
    assert 'id="book-dose-2"' in client.get("/bookings").text
    # Cancelling dose 1 is still possible (its place goes back), and the page says it is for good.
    assert 'id="not-rebookable"' in client.get(f"/bookings/{dose1_id}/cancel").text


def test_the_helpline_finds_a_caller_whose_code_expired_and_books_their_dose_2(
    client: TestClient, make_world, engine, staff_tokens
):
    world = make_world()
    _book_dose1(client, engine, world.campaign_id, world.codes[0][1])
    client.cookies.clear()
    _expire_codes(engine)
    found = client.post(
        "/api/v1/helpline/callers", json={"code": world.codes[0][1]}, headers=bearer(staff_tokens["helpline"])
    )
    assert found.status_code == 200, found.text
    assert found.json()["dose2_only"] is True
    _refused(
        client.post(
            "/api/v1/helpline/callers",
            json={"code": world.codes[1][1]},
            headers=bearer(staff_tokens["helpline"]),
        ),
        "code_expired",
    )
    client.cookies.set("courrier_staff", staff_tokens["helpline"])
    search = client.get("/helpline?lang=en").text
    caller = client.post(
        "/helpline/callers",
        data={"code": world.codes[0][1], "csrf_token": form_token(search)},
        follow_redirects=False,
    ).headers["location"]
    page = client.get(caller).text
    assert 'id="dose2-only"' in page
    assert 'id="book-dose-1"' not in page
    assert client.get(f"{caller}/book/1/centre").status_code == 409
    booked = book_through_forms(client, f"{caller}/book/2", "LUX-VH", day_index=0)
    assert booked.status_code == 303, booked.text
    assert booked.headers["location"].startswith(caller + "/bookings/")
