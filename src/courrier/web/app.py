"""The FastAPI application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from courrier import __version__
from courrier.web.auth import context
from courrier.web.context import WebContext
from courrier.web.errors import install_error_handlers
from courrier.web.metrics import install_metrics
from courrier.web.routing import add_routes
from courrier.web.security import SecurityHeaders

STATIC = Path(__file__).parent / "static"


def create_app(ctx: WebContext) -> FastAPI:
    """The whole web app on ``ctx``'s database and keys; nothing happens at import time."""
    from courrier.web.api import checkins, citizen, confirmation, dcc, helpline, redemptions, requests, staff
    from courrier.web.pages import page_routers

    app = FastAPI(
        title="courrier",
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = ctx
    app.add_middleware(SecurityHeaders)
    install_error_handlers(app)
    # The routers of the busiest routes first: a request is matched against the routes in this order
    # (no two routes of the app match one path and method, so the order changes only what it costs:
    # a check-in was tried against 27 routes before its own, a redemption 36). Their routes are added to
    # the app one by one, not included: FastAPI matches an included router's routes twice a request
    # (web/routing.py).
    for router in (
        citizen.router,
        checkins.router,
        redemptions.router,
        confirmation.router,
        requests.router,
        helpline.router,
        staff.router,
        dcc.router,
        *page_routers(),
    ):
        add_routes(app, router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_metrics(app, ctx.engine)

    @app.get("/health", tags=["health"])
    def health(request: Request) -> dict[str, Any]:
        with context(request).engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    return app
