"""Server-rendered pages (Jinja2 + Babel catalogs) that work without JavaScript for the whole booking:
the citizen's code form and booking steps, staff sign-in, and the helpline's pages.

Every page is in the visitor's language (``?lang=``, kept in the ``lang`` cookie, beats the register
language), every POST form carries a form token (:mod:`.csrf`), and a library error becomes a page in
that language (:class:`.render.PageRoute`), never the API's JSON.
"""

from __future__ import annotations

from fastapi import APIRouter


def pages_router() -> APIRouter:
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

    router = APIRouter(include_in_schema=False)
    router.include_router(citizen.router)
    router.include_router(staff.router)
    router.include_router(helpline.router)
    router.include_router(requests.router)
    router.include_router(reception.router)
    router.include_router(physician.router)
    router.include_router(operator.router)
    router.include_router(ministry.router)
    router.include_router(audit_log.router)
    router.include_router(establishment.router)
    router.include_router(verifier.router)
    router.include_router(operator_tasks.router)
    return router
