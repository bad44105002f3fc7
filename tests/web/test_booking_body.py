"""POST /api/v1/bookings reads its body, its caller and its Idempotency-Key itself (web/json_body.py,
web/api/citizen.py): every body, good or bad, from every kind of caller, is answered as FastAPI's own
body parameter, dependency and header parameter answer it, held here to a route that takes them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

import pytest
from fastapi import Header, Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courrier.booking.tokens import make_token
from courrier.web.api.citizen import BookingRequest, Citizen

from ..production.conftest import made_once_per_session
from .body_equivalence import JSON, assert_answered_alike, envelope_bodies, send, with_reference
from .conftest import NOW, World, bearer
from .test_questions import QUESTIONS

REFERENCE = "/test/bookings-by-fastapi"
ANSWERS = b'"answers": {"allergy": "no", "arm": "left"}'
# Slot 1: the first slot the world opens (ids start at 1 on both databases), days after NOW.
GOOD = b'{"slot": 1, "dose": 1, ' + ANSWERS + b"}"
HUGE = b"123456789012345678901234567890"


def _with(fields: bytes) -> bytes:
    return b"{" + fields + b"}"


BODIES = [
    *envelope_bodies(GOOD),
    (b"null", JSON),
    (_with(b'"dose": 1, ' + ANSWERS), JSON),  # no slot
    (_with(b'"slot": 1'), JSON),  # no dose, no answers: their defaults (answer_missing)
    (_with(b'"slot": 1, "dose": 2, ' + ANSWERS), JSON),  # dose1_first
    (_with(b'"slot": 1, "dose": 3, ' + ANSWERS), JSON),  # bad_dose
    (_with(b'"slot": 999999, ' + ANSWERS), JSON),  # unknown_slot
    (_with(b'"slot": "1", "dose": "1", ' + ANSWERS), JSON),  # numbers in strings, taken
    (_with(b'"slot": 1.0, ' + ANSWERS), JSON),
    (_with(b'"slot": 1.5, ' + ANSWERS), JSON),
    (_with(b'"slot": true, ' + ANSWERS), JSON),
    (_with(b'"slot": null, ' + ANSWERS), JSON),
    (_with(b'"slot": [1], ' + ANSWERS), JSON),
    (_with(b'"slot": "one", ' + ANSWERS), JSON),
    (_with(b'"slot": 1, "dose": null, ' + ANSWERS), JSON),
    (_with(b'"slot": 1, "answers": null'), JSON),
    (_with(b'"slot": 1, "answers": ["no"]'), JSON),
    (_with(b'"slot": 1, "answers": {"allergy": 1, "arm": false}'), JSON),
    (_with(b'"slot": 1, "answers": {"allergy": "yes", "arm": "left"}'), JSON),  # see_your_doctor
    (_with(b'"slot": 1, "answers": {"allergy": "no", "arm": "up"}'), JSON),  # unknown_answer
    (_with(b'"slot": 1, "answers": {"allergy": "no", "arm": "left", "extra": "x"}'), JSON),
    # Numbers beyond 64 bits: json (FastAPI) reads an int, orjson a float (web/json_body.py); and
    # numbers beyond the ids' and doses' ranges (web/inputs.py), refused before the booking.
    (_with(b'"slot": ' + HUGE + b", " + ANSWERS), JSON),
    (_with(b'"slot": 2147483648, ' + ANSWERS), JSON),
    (_with(b'"slot": 9223372036854775808, ' + ANSWERS), JSON),
    (_with(b'"slot": 0, ' + ANSWERS), JSON),
    (_with(b'"slot": -1, ' + ANSWERS), JSON),
    (_with(b'"slot": 1, "dose": 2147483648, ' + ANSWERS), JSON),
    (_with(b'"slot": 1, "dose": 100, ' + ANSWERS), JSON),
    (_with(b'"slot": 1, "dose": 0, ' + ANSWERS), JSON),
    (_with(b'"slot": 1, "answers": {"\\ud800": "no"}'), JSON),  # a lone surrogate as a key
    (_with(b'"slot": ' + HUGE + b', "dose": "x", ' + ANSWERS), JSON),
    (_with(b'"slot": -' + HUGE + b', "dose": [], ' + ANSWERS), JSON),
    (_with(b'"slot": 1, "dose": ' + HUGE + b', "answers": []'), JSON),
    (_with(b'"slot": 1, "answers": {"allergy": ' + HUGE + b"}"), JSON),
    (_with(b'"slot": 1, "unknown": ' + HUGE + b", " + ANSWERS), JSON),
    (_with(b'"slot": 1e400, ' + ANSWERS), JSON),
    (_with(b'"slot": NaN, ' + ANSWERS), JSON),
    (_with(b'"slot": -Infinity, ' + ANSWERS), JSON),
    (_with(b'"slot": "\\ud800", ' + ANSWERS), JSON),  # a lone surrogate
    (_with(b'"slot": 1, "answers": {"allergy": "\\udfff", "arm": "left"}'), JSON),
    (_with(b'"slot": 1, "answers": {"allergy": "' + b"n" * 100_000 + b'", "arm": "left"}'), JSON),
    (_with(b'"slot": 1, "code": "' + b"c" * 5000 + b'", "unknown": 1, ' + ANSWERS), JSON),
    (_with(b'"slot": 1, "slot": "x", ' + ANSWERS), JSON),  # the last of two wins
    (_with(b'"slot": 1} {'), JSON),
    (b"\xef\xbb\xbf" + GOOD, JSON),  # a UTF-8 byte order mark
]

KEY_OK = "k" * 64
KEY_TOO_LONG = "k" * 65


@pytest.fixture
def world(engine, make_world) -> World:
    """Made once per pytest worker and database, restored for each test (its 7,884 slots)."""
    world: World = made_once_per_session(
        engine, "booking_body_world", lambda: make_world(people=4, campaign_extra=QUESTIONS)
    )
    return world


@pytest.fixture
def callers(world: World, keys, staff_tokens) -> list[dict[str, str]]:
    """No session; a citizen's, without and with an Idempotency-Key (64 characters, and one too long);
    wrong sessions: forged, expired, a staff member's."""
    token = make_token(keys, world.codes[0][0], NOW)
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    expired = make_token(keys, world.codes[1][0], NOW - dt.timedelta(hours=1))
    return [
        {},
        bearer(token),
        {**bearer(make_token(keys, world.codes[2][0], NOW)), "Idempotency-Key": KEY_OK},
        {**bearer(token), "Idempotency-Key": KEY_TOO_LONG},
        {"Idempotency-Key": KEY_TOO_LONG},
        bearer(forged),
        bearer(expired),
        bearer(staff_tokens["helpline"]),
    ]


def _by_fastapi(
    body: BookingRequest,
    request: Request,
    code_id: Citizen,
    idempotency_key: Annotated[str | None, Header(max_length=64)] = None,
) -> dict[str, Any]:
    # The numbers it read.
    return {"read": {"slot": body.slot, "dose": body.dose}}


def _booked_or_refused(answer: Any) -> bool:
    """The booking's own answer: a booking, or a refusal of the booking rules (not of the request)."""
    found = answer.json()
    if answer.status_code in (200, 201):
        return "reference" in found
    return found["error"]["code"] not in ("invalid_request", "bad_session")


@pytest.mark.parametrize(("body", "content_type"), BODIES, ids=[str(n) for n in range(len(BODIES))])
def test_a_body_is_read_or_refused_as_fastapi_reads_or_refuses_it(client, callers, body, content_type):
    reference = with_reference(client, REFERENCE, _by_fastapi)
    assert_answered_alike(
        client, "/api/v1/bookings", reference, body, content_type, callers, judged=_booked_or_refused
    )


def test_the_good_body_books_and_its_key_answers_the_first_booking_again(client, world, keys):
    headers = {**bearer(make_token(keys, world.codes[3][0], NOW)), "Idempotency-Key": KEY_OK}
    first = send(client, "/api/v1/bookings", GOOD, JSON, headers)
    assert first.status_code == 201, first.text
    again = send(client, "/api/v1/bookings", GOOD, JSON, headers)
    assert (again.status_code, again.json()) == (200, first.json())


# Bodies of the booking's fields (and an unknown one) with any JSON value, as json.dumps writes them
# (NaN and Infinity included, non-ASCII escaped or not), sent by every kind of caller.
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["1", "2", "no", "left", "yes", "up", "\ud800"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
_answers = st.dictionaries(
    st.sampled_from(["allergy", "arm", "other", "\ud800"]),
    st.sampled_from(["no", "yes", "left", "right", ""]) | _values,
    max_size=3,
)
_fields = st.fixed_dictionaries(
    {},
    optional={
        "slot": st.integers(min_value=-3, max_value=40) | _values,
        "dose": st.sampled_from([1, 2, 3, 0]) | _values,
        "answers": _answers | _values,
        "unknown": _values,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=_fields | _values,
    ensure_ascii=st.booleans(),
    caller=st.integers(min_value=0, max_value=7),
)
def test_any_json_body_is_read_or_refused_as_fastapi_reads_or_refuses_it(
    client, callers, fields, ensure_ascii, caller
):
    reference = with_reference(client, REFERENCE, _by_fastapi)
    body = json.dumps(fields, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")
    headers = callers[caller]
    assert_answered_alike(
        client, "/api/v1/bookings", reference, body, JSON, [headers], judged=_booked_or_refused
    )


def test_the_openapi_spec_still_documents_the_body_and_the_key(client):
    spec = client.get("/api/openapi.json").json()
    operation = spec["paths"]["/api/v1/bookings"]["post"]
    body = operation["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    assert schema["required"] == ["slot"]
    assert sorted(schema["properties"]) == ["answers", "dose", "slot"]
    # Ids within the database's (int4), doses within their own range (web/inputs.py).
    assert schema["properties"]["slot"] == {
        "type": "integer",
        "title": "Slot",
        "minimum": 1,
        "maximum": 2**31 - 1,
    }
    assert schema["properties"]["dose"] == {
        "type": "integer",
        "title": "Dose",
        "default": 1,
        "minimum": 1,
        "maximum": 99,
    }
    [key] = operation["parameters"]
    assert (key["name"], key["in"], key["required"]) == ("idempotency-key", "header", False)
    assert key["schema"]["anyOf"][0] == {"type": "string", "maxLength": 64}
