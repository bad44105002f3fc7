"""POST /api/v1/redemptions and POST /api/v1/redemptions/preview read their body and caller themselves
(web/json_body.py): every body, good or bad, from every kind of caller, is answered as FastAPI's own
body parameter and dependency answer it, held here to a route that takes them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Request

from courrier.accounts.sessions import open_session
from courrier.accounts.users import get_user
from courrier.db.schema import audit_log, redemptions
from courrier.db.transaction import write_transaction
from courrier.web.api.redemptions import EstablishmentStaff, RedemptionBody, VoucherInput

from ..web.body_equivalence import (
    JSON,
    assert_still_empty,
    envelope_bodies,
    preview_bodies,
    sweep_bodies,
    with_reference,
)
from ..web.conftest import NOW, bearer

STAY = b'"stay_from": "2021-01-20", "stay_to": "2021-01-21"'
GOOD = b'{"scan": "a", ' + STAY + b', "reference": "BK-7", "nonce": "x"}'


def _with(fields: bytes) -> bytes:
    return b"{" + fields + b"}"


BODIES = [
    *envelope_bodies(GOOD),
    (_with(STAY + b', "reference": "BK-7", "nonce": "x"'), JSON),  # neither scan nor code
    (_with(b'"scan": "a", "code": "b", ' + STAY + b', "reference": "BK-7", "nonce": "x"'), JSON),
    (_with(b'"code": "' + b"c" * 65 + b'", ' + STAY + b', "reference": "BK-7", "nonce": "x"'), JSON),
    (_with(b'"scan": "' + b"s" * 2001 + b'", ' + STAY + b', "reference": "BK-7", "nonce": "x"'), JSON),
    (_with(b'"scan": 5, ' + STAY + b', "reference": "BK-7", "nonce": "x"'), JSON),
    (_with(b'"scan": "a", "stay_to": "2021-01-21", "reference": "BK-7", "nonce": "x"'), JSON),
    (
        _with(b'"scan": "a", "stay_from": "2021-13-01", "stay_to": "x", "reference": "BK-7", "nonce": "x"'),
        JSON,
    ),
    (_with(b'"scan": "a", "stay_from": 20210120, "stay_to": null, "reference": "BK-7", "nonce": "x"'), JSON),
    (_with(b'"scan": "a", ' + STAY + b', "nonce": "x"'), JSON),  # no reference
    (_with(b'"scan": "a", ' + STAY + b', "reference": "' + b"r" * 65 + b'", "nonce": "x"'), JSON),
    (_with(b'"scan": "a", ' + STAY + b', "reference": "BK-7"'), JSON),  # no nonce
    (_with(b'"scan": "a", ' + STAY + b', "reference": "BK-7", "nonce": ""'), JSON),
    (_with(b'"scan": "a", ' + STAY + b', "reference": "BK-7", "nonce": "' + b"n" * 65 + b'"'), JSON),
    (_with(b'"scan": "a", ' + STAY + b', "reference": "BK-7", "nonce": "x", "establishment": 7'), JSON),
    (_with(b'"scan": "a", ' + STAY + b', "reference": NaN, "nonce": "x"'), JSON),
    (_with(b'"scan": "a", ' + STAY + b', "reference": 123456789012345678901234567890, "nonce": "x"'), JSON),
    (_with(b'"scan": "\\ud800", ' + STAY + b', "reference": "BK-7", "nonce": "x"'), JSON),
    (_with(b'"scan": "a", ' + STAY + b', "reference": "BK-7", "nonce": "x", "unknown": 1'), JSON),
]

# The preview's body: one of scan and code, and admin's establishment.
PREVIEW_BODIES = [
    *preview_bodies("establishment"),
    # The redemption's body: its extra fields are not the preview's, and ignored as unknown ones.
    (GOOD, JSON),
]


@pytest.fixture
def callers(engine, vouchers, establishment_staff, clock) -> dict[str, dict[str, str]]:
    """No session, an establishment's front desk, and a role that may not redeem (the ministry)."""
    with write_transaction(engine) as connection:
        tokens = [
            open_session(connection, get_user(connection, name), now=NOW).token for name in ("hotel1", "min1")
        ]
    return {"no session": {}, "establishment": bearer(tokens[0]), "ministry": bearer(tokens[1])}


def _by_fastapi(body: RedemptionBody, request: Request, session: EstablishmentStaff) -> dict[str, Any]:
    return {"read": body.model_dump(mode="json")}


def _preview_by_fastapi(body: VoucherInput, request: Request, session: EstablishmentStaff) -> dict[str, Any]:
    return {"read": body.model_dump(mode="json")}


def test_every_body_is_read_or_refused_as_fastapi_reads_or_refuses_it(client, callers, engine, subtests):
    """The redemption's bodies and the preview's, in one world."""
    reference = with_reference(client, "/test/redemptions-by-fastapi", _by_fastapi)
    sweep_bodies(subtests, client, "/api/v1/redemptions", reference, BODIES, callers)
    reference = with_reference(client, "/test/previews-by-fastapi", _preview_by_fastapi)
    sweep_bodies(subtests, client, "/api/v1/redemptions/preview", reference, PREVIEW_BODIES, callers)
    assert_still_empty(engine, redemptions, audit_log)


def test_the_openapi_spec_still_documents_the_body(client):
    spec = client.get("/api/openapi.json").json()
    body = spec["paths"]["/api/v1/redemptions"]["post"]["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert sorted(schema["required"]) == ["nonce", "reference", "stay_from", "stay_to"]


def test_the_openapi_spec_still_documents_the_preview_body(client):
    spec = client.get("/api/openapi.json").json()
    body = spec["paths"]["/api/v1/redemptions/preview"]["post"]["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert sorted(schema["properties"]) == ["code", "establishment", "scan"]
    assert schema["properties"]["scan"]["anyOf"][0] == {"type": "string", "maxLength": 2000}
