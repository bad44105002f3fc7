"""The centre's API: check-in, refusals in the staff's language, the day list, the offline list and
the upload of queued scans, the vaccination record; each centre sees its own day only."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from courrier.booking.bookings import book_dose
from courrier.booking.confirmation import reception_payload
from courrier.db.schema import checkins

from ..web.conftest import NOW, bearer, first_slot
from .conftest import CENTRE, OTHER

DOSE = {
    "product": "EU/1/20/1528",
    "manufacturer": "ORG-100030215",
    "prophylaxis": "1119349007",
    "lot": "FK1234",
    "dose_number": 1,
    "series_doses": 2,
}


@pytest.fixture
def desk_api(make_desk, client, clock, accounts):
    desk = make_desk(people=4)
    clock.now = desk.at
    return desk


def _post(client, accounts, name, path, body, **options):
    return client.post(path, json=body, headers=bearer(accounts[name][0]), **options)


def test_a_check_in_answers_201_then_the_same_nonce_gives_the_same_answer(desk_api, client, accounts):
    body = {"scan": desk_api.letter(0), "nonce": "tap-1", "desk": "entrée A"}
    first = _post(client, accounts, "desk-lux", "/api/v1/checkins", body)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "ok"
    checkin = first.json()["checkin"]
    assert checkin["booking"]["reference"] == desk_api.bookings[0].reference
    assert checkin["person"]["birth_date"] == "1930-01-01"
    assert checkin["desk"] == "entrée A"
    again = _post(client, accounts, "desk-lux", "/api/v1/checkins", body)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    refused = _post(
        client,
        accounts,
        "desk-lux",
        "/api/v1/checkins?lang=de",
        {"scan": desk_api.letter(0), "nonce": "tap-2"},
    )
    assert refused.status_code == 200
    assert refused.json()["status"] == "refused"
    reason = refused.json()["reason"]
    assert reason["code"] == "already_checked_in"
    assert reason["desk"] == "entrée A"
    assert reason["message"] == "Bereits um 08:00 am Schalter entrée A angemeldet."
    assert refused.json()["person"]["name"]


@pytest.mark.parametrize(
    ("body", "status"),
    [({"nonce": "x"}, 422), ({"scan": "a", "code": "b", "nonce": "x"}, 422), ({"scan": "a"}, 422)],
)
def test_a_malformed_body_is_422(desk_api, client, accounts, body, status):
    answer = _post(client, accounts, "desk-lux", "/api/v1/checkins", body)
    assert answer.status_code == status
    assert answer.json()["error"]["code"] == "invalid_request"


def test_each_refusal_comes_in_the_staffs_language(desk_api, client, accounts):
    unknown = _post(
        client, accounts, "desk-lux", "/api/v1/checkins?lang=pt", {"code": "ZZZZZZZZ", "nonce": "n1"}
    ).json()
    assert unknown["reason"]["code"] == "unknown_booking"
    assert unknown["reason"]["message"] == "Esta marcação não existe."
    elsewhere = _post(
        client, accounts, "desk-esch", "/api/v1/checkins?lang=lb", {"scan": desk_api.letter(1), "nonce": "n2"}
    )
    assert elsewhere.json()["reason"]["code"] == "booked_elsewhere"
    assert "LUX-VH" in elsewhere.json()["reason"]["message"]


def test_the_cookie_needs_the_csrf_header(desk_api, client, accounts):
    token, csrf = accounts["desk-lux"]
    client.cookies.set("courrier_staff", token)
    body = {"scan": desk_api.letter(0), "nonce": "c-1"}
    refused = client.post("/api/v1/checkins", json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "bad_csrf_token"
    accepted = client.post("/api/v1/checkins", json=body, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201
    client.cookies.clear()


def test_a_reception_account_sees_only_its_own_centres_day(desk_api, client, accounts):
    _post(client, accounts, "desk-lux", "/api/v1/checkins", {"scan": desk_api.letter(0), "nonce": "d-1"})
    day = desk_api.at.date().isoformat()
    own = client.get(f"/api/v1/centres/{CENTRE}/day?date={day}", headers=bearer(accounts["desk-lux"][0]))
    assert own.status_code == 200
    assert own.json()["counts"]["arrived"] == 1
    assert own.json()["counts"]["expected"] == 3
    for name in ("desk-esch",):
        other = client.get(f"/api/v1/centres/{CENTRE}/day?date={day}", headers=bearer(accounts[name][0]))
        assert other.status_code == 403
        assert other.json()["error"]["code"] == "forbidden"
        offline = client.get(
            f"/api/v1/centres/{CENTRE}/offline?date={day}", headers=bearer(accounts[name][0])
        )
        assert offline.status_code == 403
    physician = client.get(f"/api/v1/centres/{CENTRE}/day?date={day}", headers=bearer(accounts["doc-lux"][0]))
    assert physician.status_code == 200
    admin = client.get(f"/api/v1/centres/{OTHER}/day?date={day}", headers=bearer(accounts["boss"][0]))
    assert admin.status_code == 200


def test_queued_scans_are_applied_once_each_and_a_desk_conflict_is_reported(
    desk_api, client, accounts, engine
):
    day = desk_api.at.date().isoformat()
    listed = client.get(
        f"/api/v1/centres/{CENTRE}/offline?date={day}", headers=bearer(accounts["desk-lux"][0])
    )
    assert listed.status_code == 200
    assert len(listed.json()["bookings"]) == 4
    for _code_id, code in desk_api.codes:
        assert code not in listed.text
    # While desk A was offline, desk B checked in the third person online.
    _post(
        client,
        accounts,
        "desk-lux",
        "/api/v1/checkins",
        {"scan": desk_api.letter(2), "nonce": "b-1", "desk": "B"},
    )
    scanned_at = (desk_api.at - dt.timedelta(minutes=5)).isoformat()
    queued = {
        "desk": "A",
        "scans": [
            {"nonce": "a-1", "scan": desk_api.letter(0), "scanned_at": scanned_at},
            {"nonce": "a-2", "code": desk_api.codes[1][1], "scanned_at": scanned_at},
            {"nonce": "a-3", "scan": desk_api.letter(2), "scanned_at": scanned_at},
        ],
    }
    uploaded = _post(client, accounts, "desk-lux", "/api/v1/checkins/batch", queued)
    assert uploaded.status_code == 200, uploaded.text
    results = uploaded.json()["results"]
    assert [(r["nonce"], r["status"]) for r in results] == [("a-1", "ok"), ("a-2", "ok"), ("a-3", "conflict")]
    assert results[2]["reason"]["desk"] == "B"
    assert results[0]["checkin"]["at"] == (desk_api.at - dt.timedelta(minutes=5)).isoformat()
    # The upload retried (the answer was lost): nothing is applied twice.
    again = _post(client, accounts, "desk-lux", "/api/v1/checkins/batch", queued).json()["results"]
    assert [r["status"] for r in again] == ["ok", "ok", "conflict"]
    assert [r["checkin"]["id"] for r in again[:2]] == [r["checkin"]["id"] for r in results[:2]]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(checkins)).scalar_one() == 3


def test_the_physician_records_dose_1_sees_dose_2_and_corrects(desk_api, client, accounts, engine, clock):
    checkin = _post(
        client, accounts, "desk-lux", "/api/v1/checkins", {"scan": desk_api.letter(0), "nonce": "v-1"}
    )
    checkin_id = checkin.json()["checkin"]["id"]
    body = {**DOSE, "checkin": checkin_id, "nonce": "rec-1"}
    refused = _post(client, accounts, "desk-lux", "/api/v1/vaccinations", body)
    assert refused.status_code == 403  # reception does not record doses
    recorded = _post(client, accounts, "doc-lux", "/api/v1/vaccinations", body)
    assert recorded.status_code == 201, recorded.text
    record = recorded.json()["record"]
    assert record["product_name"] == "Comirnaty"
    assert recorded.json()["next_dose"] == {"dose": 2, "booking": None}
    assert _post(client, accounts, "doc-lux", "/api/v1/vaccinations", body).status_code == 200
    bad = _post(
        client, accounts, "doc-lux", "/api/v1/vaccinations?lang=fr", {**body, "nonce": "r2", "product": "X"}
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "unknown_vaccine_value"
    twice = _post(client, accounts, "doc-lux", "/api/v1/vaccinations", {**body, "nonce": "r3"})
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "already_vaccinated"
    slot2 = first_slot(engine, desk_api.campaign_id, CENTRE, day=dt.date(2021, 2, 15))
    booking2 = book_dose(engine, desk_api.codes[0][0], slot2, 2, booked_by="t", now=NOW)[0]
    corrected = _post(
        client,
        accounts,
        "doc-lux",
        f"/api/v1/vaccinations/{record['id']}/corrections",
        {**DOSE, "lot": "FK1243", "nonce": "fix-1", "reason": "lot mistyped"},
    )
    assert corrected.status_code == 201, corrected.text
    assert corrected.json()["record"]["supersedes"] == record["id"]
    assert corrected.json()["next_dose"]["booking"]["id"] == booking2.id
    history = client.get(
        f"/api/v1/checkins/{checkin_id}/history", headers=bearer(accounts["doc-lux"][0])
    ).json()
    assert [(r["lot"], r["current"]) for r in history["records"]] == [("FK1234", False), ("FK1243", True)]
    hidden = client.get(f"/api/v1/checkins/{checkin_id}/history", headers=bearer(accounts["desk-esch"][0]))
    assert hidden.status_code == 404
    # Dose 2 at its day.
    clock.now = booking2.starts_at
    second = _post(
        client,
        accounts,
        "desk-lux",
        "/api/v1/checkins",
        {"scan": reception_payload(booking2.reference), "nonce": "v-2"},
    )
    assert second.json()["checkin"]["dose"] == 2
    dose2 = _post(
        client,
        accounts,
        "doc-lux",
        "/api/v1/vaccinations",
        {**DOSE, "dose_number": 2, "checkin": second.json()["checkin"]["id"], "nonce": "rec-2"},
    )
    assert dose2.status_code == 201
    assert dose2.json()["next_dose"] is None


def test_no_shows_are_released_by_reception(desk_api, client, accounts, clock):
    _post(client, accounts, "desk-lux", "/api/v1/checkins", {"scan": desk_api.letter(0), "nonce": "ns-1"})
    clock.now = desk_api.at + dt.timedelta(hours=3)
    day = desk_api.at.date().isoformat()
    released = _post(client, accounts, "desk-lux", f"/api/v1/centres/{CENTRE}/day/no-shows?date={day}", None)
    assert released.status_code == 200
    assert released.json()["released"] == 3
