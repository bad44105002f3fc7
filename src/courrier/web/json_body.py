"""A route's JSON body read and validated as FastAPI reads and validates a body parameter, for the hot
write routes (POST /api/v1/checkins and POST /api/v1/redemptions and their previews, POST
/api/v1/bookings) that read their body and their caller themselves: FastAPI's resolution of a body
parameter and a dependency cost one of them about 130,000 instructions a request.

In FastAPI's order, a route calls :func:`read_json_body` (the body's JSON: refused whoever sends it),
then its caller's dependency (then its header parameters, if any), then :func:`validated` (the body's
fields). The statuses, error bodies and locations are FastAPI's own (tests/checkin/test_checkin_body.py,
test_checkin_preview_body.py, tests/vouchers/test_redemption_body.py and tests/web/test_booking_body.py
hold each route to a route that takes FastAPI's body parameter and dependency).
"""

from __future__ import annotations

import email.message
import json
import re
from typing import Any, TypeVar

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

_Model = TypeVar("_Model", bound=BaseModel)

# orjson reads an integer beyond 64 bits (below -2**63 or above 2**64 - 1) as a float, 1.2345678901234568e+29
# for 123456789012345678901234567890, where json reads the int: an int field then refused it as too big
# (int_parsing_size) where FastAPI took it. Such a number has 19 digits or more, and a body with a run of
# 19 digits anywhere (in a string too: a rare body, read alike either way) goes to json alone.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")

MISSING = object()
"""What :func:`read_json_body` returns for an empty body (``validated`` refuses it as ``missing``)."""


async def read_json_body(request: Request) -> Any:
    """The body as FastAPI reads a route's JSON body (``MISSING`` when empty; the bytes themselves,
    to be refused, without a JSON content type). orjson first, the standard library's ``json`` (what
    FastAPI uses) for what orjson refuses or reads otherwise (integers beyond 64 bits), so that the same
    bodies are read and refused alike."""
    raw = await request.body()
    if not raw:
        return MISSING
    content_type = request.headers.get("content-type")
    if content_type != "application/json" and not is_json(content_type):
        return raw
    if _LONG_NUMBER.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", error.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": error.msg},
                }
            ],
            body=error.doc,
        ) from error


def is_json(content_type: str | None) -> bool:
    """Whether FastAPI reads a body of this content type as JSON (``application/json``, ``…+json``)."""
    if not content_type:
        return False  # FastAPI's strict content type: a body without one is not read as JSON
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def validated(model: type[_Model], value: Any) -> _Model:
    """``value`` validated as FastAPI validates a body parameter, its errors in ``body``."""
    if value is MISSING:
        raise RequestValidationError(
            [{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}]
        )
    try:
        return model.model_validate(value, from_attributes=True)
    except ValidationError as error:
        raise RequestValidationError(
            [{**found, "loc": ("body", *found["loc"])} for found in error.errors(include_url=False)]
        ) from None


def documented_body(model: type[BaseModel]) -> dict[str, Any]:
    """The ``openapi_extra`` of a route that reads ``model`` itself: its body still in the spec, required
    (inline rather than as a component; a model of plain fields, since nested models' ``$defs`` would
    not reach the spec's components)."""
    return {
        "requestBody": {
            "content": {"application/json": {"schema": model.model_json_schema()}},
            "required": True,
        }
    }
