"""POST /api/v1/checkins reads its body itself (web/json_body.py): every body, good or bad, is
answered as FastAPI's own body parameter answers it, held here to a route that takes one."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Request

from courrier.db.schema import audit_log, checkins
from courrier.web.api.checkins import CheckinBody, Reception

from ..web.body_equivalence import JSON, assert_still_empty, envelope_bodies, sweep_bodies, with_reference
from ..web.conftest import bearer

GOOD = b'{"scan": "a", "nonce": "x"}'
BODIES = [
    *envelope_bodies(GOOD),
    (b'{"nonce": ""}', JSON),
    (b'{"nonce": "x"}', JSON),
    (b'{"scan": "a", "code": "b", "nonce": "x"}', JSON),
    (b'{"scan": 5, "nonce": "x"}', JSON),
    (b'{"scan": "a", "nonce": "x", "walk_in": "maybe"}', JSON),
    (b'{"scan": "a", "nonce": "' + b"n" * 65 + b'"}', JSON),
    (b'{"scan": "a", "nonce": NaN}', JSON),
    (b'{"scan": "a", "nonce": 123456789012345678901234567890}', JSON),
    (b'{"scan": "\\ud800", "nonce": "x"}', JSON),
]


@pytest.fixture
def desk_api(make_desk, client, clock, accounts):
    desk = make_desk(people=4)
    clock.now = desk.at
    return desk


def _by_fastapi(body: CheckinBody, request: Request, session: Reception) -> dict[str, Any]:
    return {"read": body.model_dump()}


def test_every_body_is_read_or_refused_as_fastapi_reads_or_refuses_it(
    desk_api, client, accounts, engine, subtests
):
    reference = with_reference(client, "/test/checkins-by-fastapi", _by_fastapi)
    callers = {"no session": {}, "reception": bearer(accounts["desk-lux"][0])}
    sweep_bodies(subtests, client, "/api/v1/checkins", reference, BODIES, callers)
    assert_still_empty(engine, checkins, audit_log)


def test_the_openapi_spec_still_documents_the_body(client):
    spec = client.get("/api/openapi.json").json()
    body = spec["paths"]["/api/v1/checkins"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"]["required"] == ["nonce"]
