"""Server-rendered pages (Jinja2 + Babel catalogs) that work without JavaScript for the whole booking:
the citizen's code form and booking steps, staff sign-in, and the helpline's pages.

Every page is in the visitor's language (``?lang=``, kept in the ``lang`` cookie, beats the register
language), every POST form carries a form token (:mod:`.csrf`), and a library error becomes a page in
that language (:class:`.render.PageRoute`), never the API's JSON.
"""

from __future__ import annotations

from fastapi import APIRouter


def page_routers() -> list[APIRouter]:
    """The pages' routers, the busiest first (the app adds their routes in this order)."""
    from courrier.web.pages import (
        audit_log,
        citizen,
        establishment,
        helpline,
        ministry,
        operator,
        operator_tasks,
        physician,
        reception,
        requests,
        staff,
        verifier,
    )

    return [
        citizen.router,
        staff.router,
        helpline.router,
        requests.router,
        reception.router,
        physician.router,
        operator.router,
        ministry.router,
        audit_log.router,
        establishment.router,
        verifier.router,
        operator_tasks.router,
    ]
