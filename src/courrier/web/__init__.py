"""The web layer: FastAPI app factory, the JSON API under ``/api/v1``, server-rendered pages.

It parses a request, calls one domain function inside one short transaction, and maps a
:class:`~courrier.errors.CourrierError`'s ``code`` to an HTTP status in one place (:mod:`.errors`).
"""

from courrier.web.app import create_app

__all__ = ["create_app"]
