"""JSON answers written with orjson, returned as a ready ``Response``.

FastAPI validates and serialises a returned dict against the route's return type through Pydantic; for
the routes of the opening rush that costs more than the database work, so they build their answer here
(the route's ``response_model`` still documents it in the OpenAPI spec).
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class FastJSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
