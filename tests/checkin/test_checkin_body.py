"""POST /api/v1/checkins reads its body itself (web/api/checkins.py): every body, good or bad, is
answered as FastAPI's own body parameter answers it, held here to a route that takes one."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Request

from courrier.web.api.checkins import CheckinBody, Reception

from ..web.conftest import bearer

REFERENCE = "/test/checkins-by-fastapi"
JSON = "application/json"
BODIES = [
    (b"", JSON),
    (b"{", JSON),
    (b"[]", JSON),
    (b'"scan"', JSON),
    (b"{}", JSON),
    (b'{"nonce": ""}', JSON),
    (b'{"nonce": "x"}', JSON),
    (b'{"scan": "a", "code": "b", "nonce": "x"}', JSON),
    (b'{"scan": 5, "nonce": "x"}', JSON),
    (b'{"scan": "a", "nonce": "x", "walk_in": "maybe"}', JSON),
    (b'{"scan": "a", "nonce": "' + b"n" * 65 + b'"}', JSON),
    (b'{"scan": "a", "nonce": NaN}', JSON),
    (b'{"scan": "a", "nonce": 123456789012345678901234567890}', JSON),
    (b'{"scan": "\\ud800", "nonce": "x"}', JSON),
    ('{"scan": "a", "nonce": "x"}'.encode("utf-16"), JSON),
    (b'{"scan": "a", "nonce": "x"}', "application/json; charset=utf-8"),
    (b'{"scan": "a", "nonce": "x"}', "application/vnd.courrier+json"),
    (b'{"scan": "a", "nonce": "x"}', "text/plain"),
    (b'{"scan": "a", "nonce": "x"}', None),
]


@pytest.fixture
def desk_api(make_desk, client, clock, accounts):
    desk = make_desk(people=4)
    clock.now = desk.at
    return desk


def _by_fastapi(body: CheckinBody, request: Request, session: Reception) -> dict[str, Any]:
    return {"read": body.model_dump()}


@pytest.fixture
def reference(client):
    client.app.router.add_api_route(REFERENCE, _by_fastapi, methods=["POST"])
    return REFERENCE


def _send(client, path: str, body: bytes, content_type: str | None, headers: dict[str, str]) -> Any:
    sent = dict(headers)
    if content_type is not None:
        sent["content-type"] = content_type
    return client.post(path, content=body, headers=sent)


@pytest.mark.parametrize(("body", "content_type"), BODIES)
def test_a_body_is_read_or_refused_as_fastapi_reads_or_refuses_it(
    desk_api, client, accounts, reference, body, content_type
):
    for headers in ({}, bearer(accounts["desk-lux"][0])):
        ours = _send(client, "/api/v1/checkins", body, content_type, headers)
        theirs = _send(client, reference, body, content_type, headers)
        if theirs.status_code == 200:  # read: the check-in was judged (checked in or refused)
            assert ours.status_code in (200, 201), (body, ours.text)
            assert ours.json()["status"] in ("ok", "refused")
        else:
            assert (ours.status_code, ours.json()) == (theirs.status_code, theirs.json())


def test_the_openapi_spec_still_documents_the_body(client):
    spec = client.get("/api/openapi.json").json()
    body = spec["paths"]["/api/v1/checkins"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"]["required"] == ["nonce"]
