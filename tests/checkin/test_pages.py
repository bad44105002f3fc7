"""The reception and physician pages without JavaScript: type a code, see the booking, check in; the
day list; record a dose, correct it, book the next dose."""

from __future__ import annotations

import json
import re

import pytest

from courrier.web.pages import csrf

from .conftest import CENTRE, OTHER


def _signed_in(client, accounts, name):
    token, csrf_token = accounts[name]
    client.cookies.clear()
    client.cookies.set("courrier_staff", token)
    return csrf_token


def _config(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="reception-config">(.*?)</script>', page, re.S)
    assert found is not None
    return json.loads(found.group(1))


@pytest.fixture
def desk_pages(make_desk, client, clock, accounts):
    desk = make_desk(people=3)
    clock.now = desk.at
    return desk


def test_reception_types_a_code_sees_the_person_and_checks_them_in(desk_pages, client, accounts):
    token = _signed_in(client, accounts, "desk-lux")
    page = client.get("/reception?lang=en")
    assert page.status_code == 200
    assert 'id="scan-area"' in page.text
    config = _config(page.text)
    assert config["centre"] == CENTRE
    assert config["csrf_token"] == token
    assert config["endpoints"]["offline"] == f"/api/v1/centres/{CENTRE}/offline?date=2021-01-25"
    assert config["messages"]["camera_start"] == "Scan with the camera"
    assert config["reasons"]["too_early"].startswith("Too early")
    found = client.post("/reception/lookup", data={csrf.FIELD: token, "code": desk_pages.codes[0][1].lower()})
    assert found.status_code == 200
    assert 'id="checkin-booking"' in found.text
    assert desk_pages.bookings[0].reference in found.text
    assert 'id="checkin-birth-date"' in found.text
    nonce = re.search(r'name="nonce" value="([^"]+)"', found.text).group(1)
    form = {csrf.FIELD: token, "code": desk_pages.codes[0][1].lower(), "nonce": nonce, "scanned": "0"}
    done = client.post("/reception/checkins", data=form)
    assert done.status_code == 201
    assert 'id="checkin-done"' in done.text
    # A double click: the same nonce is the same check-in.
    assert 'id="checkin-done"' in client.post("/reception/checkins", data=form).text
    again = client.post("/reception/checkins?lang=fr", data={**form, "nonce": "another"})
    assert 'data-reason="already_checked_in"' in again.text
    assert "Déjà enregistrée à 08:00" in again.text
    day = client.get("/reception/day")
    assert f'id="booking-{desk_pages.bookings[0].reference}" data-state="arrived"' in day.text
    assert 'id="count-expected">2<' in day.text


def test_a_keyboard_scanner_typing_the_letters_qr_is_read_as_a_scan(desk_pages, client, accounts):
    token = _signed_in(client, accounts, "desk-lux")
    found = client.post("/reception/lookup", data={csrf.FIELD: token, "code": desk_pages.letter(1)})
    assert 'id="checkin-booking"' in found.text
    assert desk_pages.bookings[1].reference in found.text


def test_reception_of_another_centre_and_a_form_without_token(desk_pages, client, accounts):
    _signed_in(client, accounts, "desk-esch")
    assert _config(client.get("/reception").text)["centre"] == OTHER
    refused = client.post("/reception/lookup", data={"code": desk_pages.letter(0)})
    assert refused.status_code == 403
    assert 'data-code="bad_form_token"' in refused.text
    _signed_in(client, accounts, "doc-lux")
    assert 'data-code="forbidden"' in client.get("/reception").text


def test_the_physician_records_corrects_and_books_the_next_dose(desk_pages, client, accounts, engine):
    desk_token = _signed_in(client, accounts, "desk-lux")
    form = {csrf.FIELD: desk_token, "code": desk_pages.letter(0), "nonce": "p-1", "scanned": "1"}
    assert client.post("/reception/checkins", data=form).status_code == 201
    token = _signed_in(client, accounts, "doc-lux")
    arrivals = client.get("/physician")
    checkin_id = int(re.search(r'id="checkin-(\d+)"', arrivals.text).group(1))
    page = client.get(f"/physician/checkins/{checkin_id}")
    assert 'id="vaccination-form"' in page.text
    assert "Comirnaty" in page.text
    dose = {
        csrf.FIELD: token,
        "nonce": "rec-p1",
        "product": "EU/1/20/1528",
        "manufacturer": "ORG-100030215",
        "prophylaxis": "1119349007",
        "lot": "",
        "dose_number": "1",
        "series_doses": "2",
    }
    missing = client.post(f"/physician/checkins/{checkin_id}/vaccinations?lang=en", data=dose)
    assert missing.status_code == 422
    assert 'id="lot-error"' in missing.text
    saved = client.post(
        f"/physician/checkins/{checkin_id}/vaccinations", data={**dose, "lot": "FK1"}, follow_redirects=False
    )
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert 'id="recorded"' in page.text
    assert 'id="vaccination-form"' not in page.text
    assert 'id="next-dose-not-booked"' in page.text
    record_id = int(re.search(r'id="record-(\d+)" data-current="true"', page.text).group(1))
    slot = re.search(r'name="slot" id="slot-(\d+)"', page.text).group(1)
    booked = client.post(
        f"/physician/checkins/{checkin_id}/next-dose",
        data={csrf.FIELD: token, "nonce": "b-1", "slot": slot},
        follow_redirects=False,
    )
    assert booked.status_code == 303
    page = client.get(booked.headers["location"])
    assert 'id="next-dose-booked"' in page.text
    correct = client.get(f"/physician/vaccinations/{record_id}/correct")
    assert 'value="FK1"' in correct.text
    fixed = client.post(
        f"/physician/vaccinations/{record_id}/correct",
        data={**dose, "nonce": "fix-p1", "lot": "FK2", "reason": "lot mistyped"},
        follow_redirects=False,
    )
    assert fixed.status_code == 303
    page = client.get(fixed.headers["location"])
    assert f'id="record-{record_id}" data-current="false"' in page.text
    assert "FK2" in page.text
