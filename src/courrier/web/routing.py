"""Routers added to the app route by route, instead of through FastAPI's ``include_router``.

FastAPI (0.165) keeps an included router as one entry of the app's routes and resolves it on every
request: the app asks each included router in turn whether the request is one of its routes (the router
first adds up the versions of its routes, to see whether its resolved copies are still current, then
tries its routes), and the router that says yes tries its routes a second time, from the first, when it
handles the request (a router included in an included router, as each page's router was, once more).
Added to the app one by one, the same routes are tried once, in the same order, as
routes declared on the app are.

The app takes the router's own route objects: FastAPI made each when it was declared, with its router's
prefix, tags, dependencies and defaults already in it, in its own route class (PageRoute for pages), so
it answers, is documented and refuses (404, 405, redirects) as an included copy does. Nothing in a route
belongs to one app, so every app of a process (the suite makes hundreds) shares them; making each again
for each app cost 0.15 s of FastAPI's signature and model analysis an app. One difference from routes
declared on the app: ``app.dependency_overrides`` does not reach them (their overrides provider is their
router's, none); nothing here uses overrides, and a test keeps it so. A router with settings that are
only applied when it is included (form limits, startup and shutdown handlers) or a route that is not a
FastAPI route is refused, rather than added with a difference.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Adds ``router``'s routes to ``app`` in their order, each as if declared on ``app``."""
    if router.form_limits or router.on_startup or router.on_shutdown:
        raise ValueError(f"a router with form limits or event handlers must be included: {router.prefix!r}")
    for route in router.routes:
        if not isinstance(route, APIRoute):
            # A mount or an included router would be resolved on every request again (above).
            raise TypeError(f"not a plain FastAPI route, include its router instead: {route!r}")
    app.router.routes.extend(router.routes)
