"""The EU DCC value sets a vaccination record takes its product, manufacturer and prophylaxis from.

They are the project's one copy in ``courrier/data/dcc/valuesets/`` (eHealth Network release 2.12.0,
Apache-2.0; ``data/dcc/NOTICE`` names the source), which the certificates read too, so a fresh clone
works without ``../shared``. Each is ``{"valueSetId", "valueSetDate",
"valueSetValues": {code: {"display", "lang", "active", "system", "version"}}}``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from courrier.errors import CodeError

FOLDER = Path(__file__).parents[1] / "data" / "dcc" / "valuesets"
# The record's field → the value set's file.
FILES = {
    "product": "vaccine-medicinal-product.json",
    "manufacturer": "vaccine-mah-manf.json",
    "prophylaxis": "vaccine-prophylaxis.json",
}


@dataclass(frozen=True)
class Value:
    code: str
    display: str
    active: bool


@functools.cache
def value_set(field: str) -> dict[str, Value]:
    """The values of the set for ``field`` (product, manufacturer, prophylaxis), by code."""
    document = json.loads((FOLDER / FILES[field]).read_text(encoding="utf-8"))
    return {
        code: Value(code, str(entry["display"]), bool(entry.get("active", True)))
        for code, entry in document["valueSetValues"].items()
    }


def checked_value(field: str, code: str) -> str:
    """``code`` if it is an active value of ``field``'s set; ``unknown_vaccine_value`` otherwise."""
    found = value_set(field).get(code)
    if found is None or not found.active:
        raise CodeError(
            f"{field}: {code!r} is not an active code of the EU DCC value set {FILES[field]}",
            code="unknown_vaccine_value",
            field=field,
        )
    return code


def display(field: str, code: str) -> str:
    found = value_set(field).get(code)
    return found.display if found is not None else code
