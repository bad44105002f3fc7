"""Library errors as HTTP answers, in one place: ``{"error": {"code", "message"}}`` with the status
and the message (in the request's language) from the error catalogue."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from courrier.catalogue import http_status, message
from courrier.errors import CourrierError
from courrier.web.i18n import request_language


def _writable(text: str) -> str:
    """``text`` as UTF-8 can write it: a lone surrogate (from a JSON escape, ``"\\ud800"``, echoed in
    a message or a fact) becomes its backslash escape, ``\\ud800``, instead of failing the answer."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_body(code: str, text: str, facts: dict[str, object] | None = None) -> dict[str, dict[str, str]]:
    """The error's code and message, and its facts (e.g. the ``group`` a mistyped code is wrong in)."""
    found = {_writable(str(k)): _writable(str(v)) for k, v in (facts or {}).items()}
    return {"error": {**found, "code": code, "message": _writable(text)}}


def error_response(request: Request, error: CourrierError) -> JSONResponse:
    headers = {}
    retry_after_s = getattr(error, "retry_after_s", None)
    if retry_after_s is not None:
        headers["Retry-After"] = str(retry_after_s)
    text = message(error, request_language(request))
    return JSONResponse(
        error_body(error.code, text, error.facts), status_code=http_status(error), headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CourrierError)
    async def courrier_error(request: Request, error: CourrierError) -> JSONResponse:
        return error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return JSONResponse(
            error_body("invalid_request", f"{where}: {first.get('msg', 'invalid')}"), status_code=422
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(error.detail)), status_code=error.status_code, headers=error.headers
        )
