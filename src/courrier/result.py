"""The one JSON shape of the results that cross the library's edge.

A use case returns a frozen dataclass; the CLI's ``--json`` and the web layer's answers both print its
``to_json()``: the fields by name, nested results and dataclasses as objects, dates and timestamps in
ISO 8601, paths and other values as text, tuples and sets as lists. A result that must leave something
out or rename a field overrides ``to_json`` and says why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it (see the module's docstring)."""
    if isinstance(value, Result):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(item) for item in value)
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, PurePath):
        return str(value)
    return value


class Result:
    """Base of the result dataclasses: ``to_json()`` gives their fields, made plain."""

    def to_json(self) -> dict[str, Any]:
        assert dataclasses.is_dataclass(self)
        return {field.name: plain(getattr(self, field.name)) for field in dataclasses.fields(self)}
