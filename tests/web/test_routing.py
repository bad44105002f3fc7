"""The app's routes are its own (web/routing.py), not included routers, and answer as included ones did:
a wrong method, an unknown path, a trailing slash, HEAD, the static files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

import courrier.web.routing
from courrier.web.routing import add_routes


def test_every_route_is_matched_on_the_app_itself(client: TestClient):
    """An included router would be matched twice a request (web/routing.py): every entry of the app's
    routes is a route (FastAPI's or the OpenAPI document's) or the static files' mount."""
    routes = client.app.router.routes  # type: ignore[attr-defined]
    assert len(routes) > 100
    assert [route for route in routes if not isinstance(route, (Route, Mount))] == []


def test_a_wrong_method_is_a_json_405_naming_the_right_one(client: TestClient):
    answer = client.get("/api/v1/checkins")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.json()["error"]["code"] == "method_not_allowed"


def test_head_is_not_get(client: TestClient):
    """FastAPI's routes answer only the methods they name: HEAD of a GET route is a 405 (Starlette's
    static files do answer it)."""
    assert client.head("/health").status_code == 405
    assert client.head("/static/site.css").status_code == 200


def test_an_unknown_path_under_a_route_prefix_is_a_json_404(client: TestClient):
    answer = client.post("/api/v1/checkins/extra")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_a_trailing_slash_is_redirected_to_the_route(client: TestClient):
    answer = client.get("/health/", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == "http://testserver/health"


def test_a_page_keeps_its_route_class(client: TestClient):
    """A page's error is a page in the visitor's language (pages.render.PageRoute), not the API's JSON."""
    answer = client.post("/staff/sign-in", data={"username": "a", "password": "b"})
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert 'data-code="bad_form_token"' in answer.text


def test_a_router_with_something_else_than_routes_is_refused():
    outer, inner = APIRouter(), APIRouter()
    inner.add_api_route("/inner", lambda: None)
    outer.include_router(inner)
    with pytest.raises(TypeError):
        add_routes(FastAPI(), outer)


def test_the_app_answers_with_the_routers_own_routes(client: TestClient):
    """Each app of the process shares the routers' route objects (web/routing.py), in the routers' order:
    none is made again per app."""
    from courrier.web.api import checkins, citizen

    routes = client.app.router.routes  # type: ignore[attr-defined]
    first = next(n for n, route in enumerate(routes) if route is citizen.router.routes[0])
    after = first + len(citizen.router.routes)
    assert all(a is b for a, b in zip(routes[first:after], citizen.router.routes, strict=True))
    assert routes[after] is checkins.router.routes[0]


SETS_OVERRIDES = re.compile(r"dependency_overrides\s*(\[|=|\.)")


def test_nothing_relies_on_dependency_overrides():
    """The shared routes' overrides provider is their router's (none), so ``app.dependency_overrides``
    would not reach them: nothing in the code or the tests sets it."""
    root = Path(courrier.web.routing.__file__).resolve().parents[3]
    found = [
        path
        for folder in ("src", "tests")
        for path in (root / folder).rglob("*.py")
        if SETS_OVERRIDES.search(path.read_text(encoding="utf-8")) and path.name != "test_routing.py"
    ]
    assert found == []
