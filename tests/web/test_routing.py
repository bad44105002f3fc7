"""The app's routes are its own (web/routing.py), not included routers, and answer as included ones did:
a wrong method, an unknown path, a trailing slash, HEAD, the static files."""

from __future__ import annotations

import ast
import inspect
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


def test_every_setting_fastapi_takes_for_a_route_is_copied():
    """add_routes passes each of add_api_route's parameters from the route: a FastAPI release with one
    more (which add_routes would leave at its default, silently) fails here, before pyproject's bound on
    fastapi is moved."""
    tree = ast.parse(Path(courrier.web.routing.__file__).read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_api_route"
    ]
    assert len(calls) == 1
    passed = {"self"} | {keyword.arg for keyword in calls[0].keywords} | {"path", "endpoint"}
    assert set(inspect.signature(APIRouter.add_api_route).parameters) == passed
