"""The DCC payload: built from a vaccination record, checked against the official schema and value sets.

The schema (eu-dcc-schema 1.3.3) and the value sets (eu-dcc-valuesets 2.12.0) are in
``courrier/data/dcc/`` (the project's one copy, which the vaccination record reads too), taken unchanged
(Apache-2.0, ``NOTICE`` there). A payload holds exactly one entry of one kind: ``v`` (vaccination),
``t`` (test) or ``r`` (recovery); the schema allows more, the regulation does not.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from courrier.certificates.names import icao_transliterate
from courrier.errors import InputFileError

DATA = Path(__file__).parents[1] / "data" / "dcc"

SCHEMA_VERSION = "1.3.3"
KINDS = ("v", "t", "r")
KIND_NAMES = {"v": "vaccination", "t": "test", "r": "recovery"}
COVID_19 = "840539006"  # SNOMED CT: the disease targeted

# Which value set each coded field of an entry must come from.
VALUE_SET_OF: Mapping[str, Mapping[str, str]] = {
    "v": {
        "tg": "disease-agent-targeted",
        "vp": "vaccine-prophylaxis",
        "mp": "vaccine-medicinal-product",
        "ma": "vaccine-mah-manf",
        "co": "country-2-codes",
    },
    "t": {
        "tg": "disease-agent-targeted",
        "tt": "test-type",
        "ma": "test-manf-example",
        "tr": "test-result",
        "co": "country-2-codes",
    },
    "r": {"tg": "disease-agent-targeted", "co": "country-2-codes"},
}


@dataclass(frozen=True)
class VaccinationRecord:
    """What the physician recorded, as the certificate needs it (codes from the value sets)."""

    family_name: str
    given_name: str
    birth_date: str  # YYYY-MM-DD, or YYYY-MM / YYYY when the register knows no more
    product: str  # mp, e.g. EU/1/20/1528
    manufacturer: str  # ma, e.g. ORG-100030215
    prophylaxis: str  # vp, e.g. J07BX03
    dose: int  # dn
    series: int  # sd
    date: dt.date  # dt
    country: str  # co, ISO 3166-1 alpha-2
    issuer: str  # is, the organisation issuing the certificate
    disease: str = COVID_19  # tg

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> VaccinationRecord:
        """A record from a JSON object with the field names above (``date`` as YYYY-MM-DD)."""
        try:
            return cls(
                family_name=str(document["family_name"]),
                given_name=str(document.get("given_name", "")),
                birth_date=str(document["birth_date"]),
                product=str(document["product"]),
                manufacturer=str(document["manufacturer"]),
                prophylaxis=str(document["prophylaxis"]),
                dose=int(document["dose"]),
                series=int(document["series"]),
                date=dt.date.fromisoformat(str(document["date"])),
                country=str(document["country"]),
                issuer=str(document["issuer"]),
                disease=str(document.get("disease", COVID_19)),
            )
        except (KeyError, ValueError, TypeError) as error:
            raise InputFileError(
                f"not a vaccination record: {error!r}", code="dcc_invalid_record", reason=str(error)
            ) from None


def vaccination_payload(record: VaccinationRecord, uvci: str) -> dict[str, Any]:
    """The payload (not yet checked: see :func:`check_payload`)."""
    names: dict[str, str] = {"fn": record.family_name, "fnt": icao_transliterate(record.family_name)}
    if record.given_name:
        names |= {"gn": record.given_name, "gnt": icao_transliterate(record.given_name)}
    entry = {
        "tg": record.disease,
        "vp": record.prophylaxis,
        "mp": record.product,
        "ma": record.manufacturer,
        "dn": record.dose,
        "sd": record.series,
        "dt": record.date.isoformat(),
        "co": record.country,
        "is": record.issuer,
        "ci": uvci,
    }
    return {"ver": SCHEMA_VERSION, "nam": names, "dob": record.birth_date, "v": [entry]}


@functools.cache
def _schema() -> Any:
    return json.loads(_data("DCC.combined-schema.json"))


@functools.cache
def _validator() -> Any:
    """jsonschema: the reference implementation, and its messages (2.5 ms a payload)."""
    import jsonschema

    return jsonschema.Draft202012Validator(_schema(), format_checker=jsonschema.FormatChecker())


@functools.cache
def _fast_validator() -> Any:
    """jsonschema-rs (Rust): the same verdict in 5 µs, so that issuing and verifying keep their rates;
    a test compares its verdicts with jsonschema's on the official vectors and on mutated payloads."""
    import jsonschema_rs

    return jsonschema_rs.validator_for(_schema(), validate_formats=True)


@functools.cache
def value_set(name: str) -> frozenset[str]:
    return frozenset(json.loads(_data(f"valuesets/{name}.json"))["valueSetValues"])


def _data(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def schema_problems(payload: Any) -> list[str]:
    """What makes ``payload`` not a DCC payload: the schema's errors, then the rule of one entry."""
    try:
        fast_valid = _fast_validator().is_valid(payload)
    except (ValueError, TypeError, OverflowError) as error:
        # CBOR can hold what JSON cannot: byte strings, tags, dates, undefined.
        return [f"payload: not JSON data ({error})"]
    if not fast_valid:
        problems = [
            f"{'/'.join(str(p) for p in error.absolute_path) or 'payload'}: {error.message}"
            for error in sorted(_validator().iter_errors(payload), key=lambda e: list(e.absolute_path))
        ]
        return problems[:5] or [f"payload: {_fast_validator().iter_errors(payload).__next__()}"]
    present = [kind for kind in KINDS if kind in payload]
    if len(present) != 1 or len(payload[present[0]]) != 1:
        counts = ", ".join(f"{kind}: {len(payload[kind])}" for kind in present) or "none"
        return [f"a certificate holds exactly one entry of one kind (v, t or r); this one: {counts}"]
    return []


def kind_of(payload: Mapping[str, Any]) -> str | None:
    present = [kind for kind in KINDS if kind in payload]
    return present[0] if len(present) == 1 else None


def unknown_codes(payload: Mapping[str, Any]) -> list[str]:
    """``field=code`` for each coded field whose code is not in its value set."""
    unknown = []
    for kind, fields in VALUE_SET_OF.items():
        for entry in payload.get(kind, ()):
            for field, name in fields.items():
                code = entry.get(field)
                if code is not None and code not in value_set(name):
                    unknown.append(f"{kind}.{field}={code}")
    return unknown


def check_payload(payload: dict[str, Any]) -> None:
    """Refuse (``dcc_invalid_record``) a payload the schema or the value sets refuse."""
    problems = schema_problems(payload) or [f"not in its value set: {c}" for c in unknown_codes(payload)]
    if problems:
        raise InputFileError(
            f"the certificate's payload is refused: {'; '.join(problems)}",
            code="dcc_invalid_record",
            reason=problems[0],
        )
