"""POST /api/v1/checkins/preview reads its body and caller itself (web/json_body.py): every body, good or
bad, from every kind of caller, is answered as FastAPI's own body parameter and dependency answer it,
held here to a route that takes them; and a preview still answers who the booking is for."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Request
from sqlalchemy import func, select

from courrier.db.schema import audit_log, checkins
from courrier.web.api.checkins import PreviewBody, Reception

from ..web.body_equivalence import JSON, assert_still_empty, preview_bodies, sweep_bodies, with_reference
from ..web.conftest import bearer
from .conftest import CENTRE

# The preview's body: one of scan and code, and admin's centre (which may be null).
BODIES = [
    *preview_bodies("centre"),
    (b'{"scan": "a", "centre": null}', JSON),
    # The check-in's body: its extra fields are not the preview's, and ignored as unknown ones (a bad
    # walk_in too).
    (b'{"scan": "a", "nonce": "x", "desk": "A", "walk_in": "maybe"}', JSON),
]


@pytest.fixture
def desk_api(make_desk, client, clock, accounts):
    desk = make_desk(people=2)
    clock.now = desk.at
    return desk


def _by_fastapi(body: PreviewBody, request: Request, session: Reception) -> dict[str, Any]:
    return {"read": body.model_dump()}


def test_every_body_is_read_or_refused_as_fastapi_reads_or_refuses_it(
    desk_api, client, accounts, engine, subtests
):
    reference = with_reference(client, "/test/checkin-previews-by-fastapi", _by_fastapi)
    # No session, the centre's reception desk, and a role that may not check anyone in (its physician).
    callers = {
        "no session": {},
        "reception": bearer(accounts["desk-lux"][0]),
        "physician": bearer(accounts["doc-lux"][0]),
    }
    sweep_bodies(subtests, client, "/api/v1/checkins/preview", reference, BODIES, callers)
    assert_still_empty(engine, checkins, audit_log)


def test_a_preview_names_the_booking_and_writes_only_the_audit_log(desk_api, client, accounts, engine):
    headers = bearer(accounts["desk-lux"][0])
    ready = client.post("/api/v1/checkins/preview", json={"scan": desk_api.letter(0)}, headers=headers)
    assert ready.status_code == 200, ready.text
    assert ready.headers["content-type"] == "application/json"
    found = ready.json()
    assert found["status"] == "ready"
    assert found["booking"]["reference"] == desk_api.bookings[0].reference
    assert found["booking"]["centre"] == CENTRE
    assert found["person"]["birth_date"] == "1930-01-01"
    refused = client.post(
        "/api/v1/checkins/preview?lang=de", json={"code": "ZZZZZZZZ"}, headers=headers
    ).json()
    assert refused["status"] == "refused"
    assert refused["reason"]["code"] == "unknown_booking"
    assert refused["reason"]["message"]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(checkins)).scalar_one() == 0
        actions = connection.execute(select(audit_log.c.action)).scalars().all()
    assert actions == ["checkin.previewed"]  # the refusal named nobody: nothing shown, nothing audited


def test_the_openapi_spec_still_documents_the_body(client):
    spec = client.get("/api/openapi.json").json()
    body = spec["paths"]["/api/v1/checkins/preview"]["post"]["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert sorted(schema["properties"]) == ["centre", "code", "scan"]
    assert schema["properties"]["scan"]["anyOf"][0] == {"type": "string", "maxLength": 2000}
    assert "required" not in schema
