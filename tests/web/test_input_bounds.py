"""Bad input is refused, never a 500 (web/inputs.py, web/errors.py): ids beyond the database's range,
doses beyond their own, lone surrogates in a JSON body, long texts, floats for ints, sent to every JSON
API route that takes a body or an int parameter (found in the app's routes and their OpenAPI entries,
so a new route is fuzzed too), and out-of-range ids to every page that takes one, by a caller the
route lets in (tests/web/test_route_access.py's RULES)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from typing import Any

import orjson
import pytest
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from courrier.booking.bookings import book_dose
from courrier.booking.tokens import make_token
from courrier.web.errors import error_body
from courrier.web.inputs import ID_MAX, Body, form_day, form_id

from ..production.conftest import made_once_per_session
from .conftest import NOW, World, bearer
from .test_questions import QUESTIONS
from .test_route_access import ANONYMOUS, CITIZEN, PARAMETERS, RULES

# The caller a route is tried with: the first its rule lets in (a role bound to a centre or an
# establishment before admin, who names one).
PREFERRED = [CITIZEN, "reception", "physician", "establishment", "helpline", "operator", "ministry", "admin"]
PREFERRED.append(ANONYMOUS)

INTS = [0, -1, 1, 2, 3, ID_MAX, ID_MAX + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(2**31) - 1, -(2**63) - 1]
TEXTS = ["\ud800", "a\udfffb", "\udbff\udc00\ud800", "x" * 5000, "", "C01", "E01", "é"]


@pytest.fixture
def world(engine, make_world) -> World:
    """Made once per pytest worker and database: a campaign with questions, its slots, and booking 1 (the
    first code's, in slot 1), so that ids reach the routes' queries."""

    def make() -> World:
        world = make_world(people=3, campaign_extra=QUESTIONS)
        book_dose(
            engine,
            world.codes[0][0],
            1,
            1,
            booked_by="citizen",
            now=NOW,
            answers={"allergy": "no", "arm": "left"},
        )
        return world

    found: World = made_once_per_session(engine, "input_bounds_world", make)
    return found


@pytest.fixture
def headers(world: World, keys, staff_tokens) -> dict[str, dict[str, str]]:
    found = {ANONYMOUS: {}, CITIZEN: bearer(make_token(keys, world.codes[0][0], NOW))}
    return found | {role: bearer(token) for role, token in staff_tokens.items()}


def _caller(method: str, path: str) -> str:
    allowed = RULES[(method, path)]
    return next(caller for caller in PREFERRED if caller in allowed)


def _api_routes(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, OpenAPI operation) of every API route that takes a body, or an int or a date
    parameter."""
    spec = app.openapi()
    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/"):
            continue
        for method in sorted(route.methods - {"HEAD"}):
            operation = spec["paths"][route.path][method.lower()]
            ints = [
                p for p in operation.get("parameters", []) if _types(p["schema"], spec) & {"integer", "date"}
            ]
            if "requestBody" in operation or ints:
                found.append((method, route.path, operation))
    return found


def _resolved(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _types(schema: dict[str, Any], spec: dict[str, Any]) -> set[str]:
    schema = _resolved(schema, spec)
    if "anyOf" in schema:
        return set().union(*(_types(choice, spec) for choice in schema["anyOf"]))
    return {schema.get("type", "any"), schema.get("format", "")} - {""}


_any_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)
_ints = st.sampled_from(INTS) | st.integers()
_texts = st.sampled_from(TEXTS) | st.text(max_size=8)


def _values(schema: dict[str, Any], spec: dict[str, Any], good: dict[str, Any], name: str) -> Any:
    """A strategy of values for a field: its good value (a real code, slot...), values of its type with
    the bad ones first, or any JSON."""
    schema = _resolved(schema, spec)
    if "anyOf" in schema:
        kinds = st.one_of(*(_values(choice, spec, good, name) for choice in schema["anyOf"]))
    elif schema.get("type") == "integer":
        kinds = _ints | st.floats() | st.sampled_from([1.0, 1.5, 1e300])
    elif schema.get("type") == "string" and schema.get("format") == "date":
        kinds = st.dates().map(dt.date.isoformat) | _texts
    elif schema.get("type") == "string" and schema.get("format") == "date-time":
        kinds = st.datetimes(timezones=st.just(dt.UTC)).map(dt.datetime.isoformat) | _texts
    elif schema.get("type") == "string":
        kinds = _texts
    elif schema.get("type") == "boolean":
        kinds = st.booleans()
    elif schema.get("type") == "array":
        kinds = st.lists(_values(schema.get("items", {}), spec, good, name), max_size=3)
    elif schema.get("type") == "object" and "properties" in schema:
        kinds = _objects(schema, spec, good)
    elif schema.get("type") == "object":
        kinds = st.dictionaries(_texts, _values(schema.get("additionalProperties", {}), spec, good, ""))
    else:
        kinds = _any_json
    if name in good:
        kinds = st.just(good[name]) | kinds
    return kinds | _any_json


def _objects(schema: dict[str, Any], spec: dict[str, Any], good: dict[str, Any]) -> Any:
    properties = schema["properties"]
    return st.fixed_dictionaries(
        {},
        optional={name: _values(field, spec, good, name) for name, field in properties.items()},
    )


def _good(world: World) -> dict[str, Any]:
    """Values that get past the field checks to the route's work."""
    return {
        "slot": 2,
        "dose": 1,
        "checkin": 1,
        "code": world.codes[1][1],
        "campaign": world.campaign,
        "centre": "C01",
        "establishment": "E01",
        "answers": {"allergy": "no", "arm": "left"},
        "nonce": "n-1",
        "stay_from": "2021-01-20",
        "stay_to": "2021-01-21",
        "date": "2021-01-25",
    }


def _path_values(name: str, kind: set[str], world: World) -> Any:
    if "integer" in kind:
        real = world.codes[0][0] if name == "caller" else 1
        return st.just(real) | _ints
    return st.just(PARAMETERS[name]) | _texts.filter(lambda text: text not in (".", ".."))


def _in_url(text: str) -> str:
    """A URL cannot carry a lone surrogate (percent-encoding writes UTF-8): its escape instead."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _refused_or_answered(answer: Any) -> None:
    assert answer.status_code < 500, answer.text[:500]
    if answer.headers.get("content-type", "").startswith("application/json"):
        # orjson refuses a lone surrogate, escaped or not: the answer is JSON any client reads.
        orjson.loads(answer.content)


@st.composite
def _requests(draw: Any, app: Any, world: World) -> tuple[str, str, str, dict[str, Any], bytes | None]:
    routes = _api_routes(app)
    method, pattern, operation = draw(st.sampled_from(routes))
    spec = app.openapi()
    good = _good(world)
    path, query = pattern, {}
    for parameter in operation.get("parameters", []):
        kind = _types(parameter["schema"], spec)
        if parameter["in"] == "path":
            value = _in_url(str(draw(_path_values(parameter["name"], kind, world))))
            path = path.replace("{" + parameter["name"] + "}", urllib.parse.quote(value, safe=""))
        elif parameter["in"] == "query" and (parameter.get("required") or draw(st.booleans())):
            query[parameter["name"]] = draw(_values(parameter["schema"], spec, good, parameter["name"]))
    body = None
    if "requestBody" in operation:
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        value = draw(_values(schema, spec, good, ""))
        body = json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
    query = {
        name: _in_url(value if isinstance(value, str) else json.dumps(value)) for name, value in query.items()
    }
    return method, pattern, path, query, body


def test_every_route_that_takes_a_body_or_an_int_is_fuzzed(client):
    found = {(method, path) for method, path, _ in _api_routes(client.app)}
    # Those the report of 2026-12-08 named, and one of each kind of parameter.
    assert {
        ("POST", "/api/v1/bookings"),
        ("GET", "/api/v1/bookings/{booking_id}"),
        ("POST", "/api/v1/bookings/{booking_id}/move"),
        ("POST", "/api/v1/helpline/callers/{caller}/bookings"),
        ("POST", "/api/v1/redemptions"),
        ("POST", "/api/v1/checkins"),
        ("GET", "/api/v1/slots"),
        ("GET", "/api/v1/centres/{centre_id}/day"),
    } <= found
    assert len(found) >= 30
    for method, path in found:
        _caller(method, path)  # every one has a caller it lets in


def test_every_request_body_is_a_body_that_refuses_lone_surrogates(client):
    from courrier.web.api.checkins import CheckinBody, PreviewBody
    from courrier.web.api.citizen import BookingRequest
    from courrier.web.api.redemptions import RedemptionBody, VoucherInput

    models = {CheckinBody, PreviewBody, BookingRequest, RedemptionBody, VoucherInput}  # read by json_body
    for route in client.app.routes:
        if isinstance(route, APIRoute):
            models |= {parameter.field_info.annotation for parameter in route.dependant.body_params}
    assert len(models) >= 15
    assert [model for model in models if not issubclass(model, Body)] == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_body_or_id_answers_500(client, world, headers, data):
    method, pattern, path, query, body = data.draw(_requests(client.app, world))
    sent = {**headers[_caller(method, pattern)]}
    if body is not None:
        sent["content-type"] = "application/json"
    answer = client.request(method, path, params=query, content=body, headers=sent)
    _refused_or_answered(answer)


# --- the cases found by the booking's comparison (tests/web/test_booking_body.py), one by one ---

BEYOND = [ID_MAX + 1, 2**63, 10**30, 0, -1]


@pytest.mark.parametrize("slot", BEYOND)
def test_a_slot_beyond_the_ids_range_is_refused_as_invalid(client, world, headers, slot):
    body = {"slot": slot, "dose": 1, "answers": {"allergy": "no", "arm": "left"}}
    for path, caller in [
        ("/api/v1/bookings", CITIZEN),
        (f"/api/v1/helpline/callers/{world.codes[1][0]}/bookings", "helpline"),
        ("/api/v1/bookings/1/move", CITIZEN),
        (f"/api/v1/helpline/callers/{world.codes[0][0]}/bookings/1/move", "helpline"),
    ]:
        answer = client.post(path, json=body, headers=headers[caller])
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["error"]["code"] == "invalid_request"
        assert answer.json()["error"]["message"].startswith("body.slot: Input should be"), answer.text


@pytest.mark.parametrize("dose", [100, 2**31, 2**63, 0])
def test_a_dose_beyond_its_range_is_refused_as_invalid(client, world, headers, dose):
    body = {"slot": 2, "dose": dose, "answers": {"allergy": "no", "arm": "left"}}
    answer = client.post("/api/v1/bookings", json=body, headers=headers[CITIZEN])
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid_request")
    assert answer.json()["error"]["message"].startswith("body.dose: "), answer.text
    answer = client.get("/api/v1/slots", params={"centre": "LUX-VH", "date": "2021-01-25", "dose": dose})
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid_request")


def test_a_dose_in_range_but_not_the_campaigns_is_still_the_bookings_refusal(client, world, headers):
    body = {"slot": 2, "dose": 3, "answers": {"allergy": "no", "arm": "left"}}
    answer = client.post("/api/v1/bookings", json=body, headers=headers[CITIZEN])
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "bad_dose")


@pytest.mark.parametrize("booking_id", BEYOND)
def test_a_path_id_beyond_the_range_is_refused_as_invalid(client, world, headers, booking_id):
    for method, path, caller in [
        ("GET", f"/api/v1/bookings/{booking_id}", CITIZEN),
        ("DELETE", f"/api/v1/bookings/{booking_id}", CITIZEN),
        ("GET", f"/api/v1/bookings/{booking_id}/confirmation.pdf", CITIZEN),
        ("DELETE", f"/api/v1/helpline/callers/{booking_id}/bookings/1", "helpline"),
        ("GET", f"/api/v1/checkins/{booking_id}/history", "reception"),
        ("DELETE", f"/api/v1/redemptions/{booking_id}", "establishment"),
    ]:
        answer = client.request(method, path, headers=headers[caller])
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid_request"), path
    # The helpline booking for a caller (a code id) that does not exist: 404, not a NoResultFound (500).
    answer = client.post(
        f"/api/v1/helpline/callers/{ID_MAX}/bookings", json={"slot": 2}, headers=headers["helpline"]
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "unknown_code")
    # A well-formed id that names nothing is still the route's 404, and nobody learns more than 401.
    answer = client.get(f"/api/v1/bookings/{ID_MAX}", headers=headers[CITIZEN])
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "unknown_booking")
    assert client.get(f"/api/v1/bookings/{booking_id}").status_code == 401


def test_a_lone_surrogate_in_a_body_is_refused_as_invalid(client, world, headers):
    answer = client.post(
        "/api/v1/bookings",
        content=b'{"slot": 2, "dose": 1, "answers": {"\\ud800": "no"}}',
        headers={**headers[CITIZEN], "content-type": "application/json"},
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid_request")
    assert answer.json()["error"]["message"] == (
        "body: Input should be valid Unicode text: a lone surrogate in answers.<key>"
    )
    # A text that is stored: a redemption's reference (refused before the voucher is looked at).
    body = {
        "code": "x",
        "stay_from": "2021-01-20",
        "stay_to": "2021-01-21",
        "reference": "R\udfff",
        "nonce": "1",
    }
    answer = client.post(
        "/api/v1/redemptions",
        content=json.dumps(body).encode(),
        headers={**headers["establishment"], "content-type": "application/json"},
    )
    assert (answer.status_code, answer.json()["error"]["message"]) == (
        422,
        "body: Input should be valid Unicode text: a lone surrogate in reference",
    )
    # A surrogate pair is a character like any other.
    answer = client.post(
        "/api/v1/sessions",
        content=b'{"code": "\\ud83d\\ude00"}',
        headers={"content-type": "application/json"},
    )
    assert answer.status_code in (401, 404, 422), answer.text
    assert "surrogate" not in answer.text


def test_an_error_answer_writes_a_lone_surrogate_as_its_escape():
    found = error_body("unknown_question", "there is no question '\ud800'", {"question": "\udfff"})
    rendered = orjson.loads(JSONResponse(found).body)
    assert rendered["error"]["message"] == "there is no question '\\ud800'"
    assert rendered["error"]["question"] == "\\udfff"
    assert error_body("x", "é ü", {"n": 1}) == {"error": {"n": "1", "code": "x", "message": "é ü"}}


def test_a_form_number_is_ascii_digits_within_its_range():
    assert [form_id(text) for text in ["1", "2147483647", "2147483648", "0", "-1", "²", "١", "", None]] == [
        1,
        ID_MAX,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ]
    assert form_id("99", 99) == 99
    assert form_id("100", 99) is None


def _page_routes(app: Any) -> list[tuple[str, str, str]]:
    """(method, path, name) of every page route with an int path parameter."""
    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or route.path.startswith("/api/"):
            continue
        for parameter in route.dependant.path_params:
            if parameter.field_info.annotation is int:
                found += [(method, route.path, parameter.name) for method in sorted(route.methods - {"HEAD"})]
    return found


def test_a_page_id_beyond_the_range_is_refused_not_a_500(client, world, headers):
    pages = _page_routes(client.app)
    assert len(pages) >= 30
    for method, pattern, name in pages:
        caller = _caller(method, pattern)
        token = headers[caller].get("Authorization", " ").split(" ")[1]
        client.cookies.clear()
        client.cookies.set("courrier_citizen" if caller == CITIZEN else "courrier_staff", token)
        for value in [ID_MAX + 1, 2**63, 10**30, -1]:
            path = pattern.format(**{**PARAMETERS, name: value})
            answer = client.request(method, path, follow_redirects=False)
            assert answer.status_code == 422, (method, path, answer.status_code)
            assert 'data-code="invalid_request"' in answer.text
    client.cookies.clear()


def _multipart(fields: dict[str, str], charset: str | None) -> tuple[bytes, dict[str, str]]:
    parts = [
        f'--b\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    content_type = "multipart/form-data; boundary=b" + (f"; charset={charset}" if charset else "")
    return ("".join(parts) + "--b--\r\n").encode(), {"content-type": content_type}


@pytest.mark.parametrize("charset", ["unicode_escape", "raw_unicode_escape", "utf-16"])
def test_a_form_in_another_charset_than_utf8_is_refused(client, world, charset):
    # unicode_escape made "\ud800" a lone surrogate, which failed the sign-in's query (a 500).
    body, headers = _multipart({"username": "\\ud800", "password": "x"}, charset)
    answer = client.post("/staff/sign-in", content=body, headers=headers)
    assert answer.status_code == 422
    assert 'data-code="invalid_request"' in answer.text


@pytest.mark.parametrize("charset", [None, "utf-8", "UTF8"])
def test_a_form_in_utf8_is_read(client, world, charset):
    body, headers = _multipart({"username": "nobody-é", "password": "x"}, charset)
    answer = client.post("/staff/sign-in", content=body, headers=headers)
    assert answer.status_code != 422, answer.text[:300]
    assert answer.status_code < 500


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_a_day_beyond_the_range_is_refused_as_invalid(client, world, headers, day):
    for method, path, caller, query in [
        ("GET", "/api/v1/slots", CITIZEN, {"centre": "LUX-VH", "date": day}),
        ("GET", "/api/v1/centres/C01/day", "reception", {"date": day}),
        ("GET", "/api/v1/centres/C01/offline", "reception", {"date": day}),
        ("POST", "/api/v1/centres/C01/day/no-shows", "reception", {"date": day}),
    ]:
        answer = client.request(method, path, params=query, headers=headers[caller])
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid_request"), path


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_page_day_beyond_the_range_is_not_a_500(client, world, headers, day):
    for caller, path, query in [
        ("reception", "/reception/day", {"date": day}),
        ("admin", "/staff/audit", {"from": day, "to": day}),
        ("admin", "/staff/audit.csv", {"from": day, "to": day}),
        ("ministry", "/staff/ministry", {"from": day, "to": day}),
        (CITIZEN, "/book/1/time", {"centre": "LUX-VH", "day": day}),
    ]:
        token = headers[caller]["Authorization"].split(" ")[1]
        client.cookies.clear()
        client.cookies.set("courrier_citizen" if caller == CITIZEN else "courrier_staff", token)
        answer = client.get(path, params=query, follow_redirects=False)
        assert answer.status_code < 500, (path, answer.status_code)
    client.cookies.clear()


def test_a_form_day_is_an_iso_day_within_its_range():
    assert [
        form_day(text) for text in ["2021-01-25", " 2021-01-25 ", "9999-12-31", "0001-01-01", "x", None]
    ] == [
        dt.date(2021, 1, 25),
        dt.date(2021, 1, 25),
        None,
        None,
        None,
        None,
    ]
