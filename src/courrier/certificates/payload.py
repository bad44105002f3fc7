"""The DCC payload: from a vaccination, a test result or a recovery, checked against the schema and
value sets.

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
from typing import Any, ClassVar

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
class Holder:
    """Whom a certificate names (``nam``, ``dob``)."""

    family_name: str
    given_name: str
    birth_date: str  # YYYY-MM-DD, or YYYY-MM / YYYY when the register knows no more


@dataclass(frozen=True)
class Vaccination:
    """A dose given, as the certificate needs it (codes from the value sets): the ``v`` entry. (The
    centre's stored record is :class:`courrier.checkin.vaccinations.VaccinationRecord`; its
    certificate facts come from ``checkin.certificate``.)"""

    holder: Holder
    product: str  # mp, e.g. EU/1/20/1528
    manufacturer: str  # ma, e.g. ORG-100030215
    prophylaxis: str  # vp, e.g. J07BX03
    dose: int  # dn
    series: int  # sd
    date: dt.date  # dt
    country: str  # co, ISO 3166-1 alpha-2
    issuer: str  # is, the organisation issuing the certificate
    disease: str = COVID_19  # tg
    kind: ClassVar[str] = "v"

    def entry(self, uvci: str) -> dict[str, Any]:
        return {
            "tg": self.disease,
            "vp": self.prophylaxis,
            "mp": self.product,
            "ma": self.manufacturer,
            "dn": self.dose,
            "sd": self.series,
            "dt": self.date.isoformat(),
            "co": self.country,
            "is": self.issuer,
            "ci": uvci,
        }


@dataclass(frozen=True)
class TestResult:
    """A test and its result: the ``t`` entry. ``test_type`` LP6464-4 (NAA, e.g. PCR, with its
    ``test_name``) or LP217198-3 (rapid antigen, with its ``device`` from the JRC list)."""

    holder: Holder
    test_type: str  # tt
    sampled_at: dt.datetime  # sc, timezone-aware
    result: str  # tr: 260415000 not detected, 260373001 detected
    centre: str  # tc
    country: str
    issuer: str
    test_name: str = ""  # nm
    device: str = ""  # ma
    disease: str = COVID_19
    kind: ClassVar[str] = "t"
    __test__: ClassVar[bool] = False  # not a pytest test class, whatever its name

    def entry(self, uvci: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"tg": self.disease, "tt": self.test_type}
        if self.test_name:
            entry["nm"] = self.test_name
        if self.device:
            entry["ma"] = self.device
        sampled = self.sampled_at.astimezone(dt.UTC).replace(microsecond=0)
        return entry | {
            "sc": sampled.isoformat().replace("+00:00", "Z"),
            "tr": self.result,
            "tc": self.centre,
            "co": self.country,
            "is": self.issuer,
            "ci": uvci,
        }


@dataclass(frozen=True)
class Recovery:
    """A recovery after a positive NAA test: the ``r`` entry, valid from ``valid_from`` to ``valid_until``
    (the certificate's expiry is never later than the end of that day)."""

    holder: Holder
    first_positive: dt.date  # fr
    valid_from: dt.date  # df
    valid_until: dt.date  # du
    country: str
    issuer: str
    disease: str = COVID_19
    kind: ClassVar[str] = "r"

    def entry(self, uvci: str) -> dict[str, Any]:
        return {
            "tg": self.disease,
            "fr": self.first_positive.isoformat(),
            "co": self.country,
            "is": self.issuer,
            "df": self.valid_from.isoformat(),
            "du": self.valid_until.isoformat(),
            "ci": uvci,
        }


CertificateFacts = Vaccination | TestResult | Recovery
# A certificate file's ``kind`` → what it holds.
FACTS_OF_KIND: Mapping[str, type[Vaccination] | type[TestResult] | type[Recovery]] = {
    "vaccination": Vaccination,
    "test": TestResult,
    "recovery": Recovery,
}


def read_facts(document: Mapping[str, Any]) -> CertificateFacts:
    """The certificate facts of a JSON object (docs/certificates.md, "Issuing"): ``kind`` (vaccination
    by default, test, recovery), the holder's ``family_name``, ``given_name``, ``birth_date`` and the
    fields of the kind; dates as YYYY-MM-DD, ``sampled_at`` as ISO 8601 with its offset."""
    try:
        kind = str(document.get("kind", "vaccination"))
        if kind not in FACTS_OF_KIND:
            raise ValueError(f"kind: one of {', '.join(FACTS_OF_KIND)}, got {kind!r}")
        holder = Holder(
            str(document["family_name"]), str(document.get("given_name", "")), str(document["birth_date"])
        )
        disease = str(document.get("disease", COVID_19))
        common = {"country": str(document["country"]), "issuer": str(document["issuer"]), "disease": disease}
        if kind == "vaccination":
            return Vaccination(
                holder,
                product=str(document["product"]),
                manufacturer=str(document["manufacturer"]),
                prophylaxis=str(document["prophylaxis"]),
                dose=int(document["dose"]),
                series=int(document["series"]),
                date=dt.date.fromisoformat(str(document["date"])),
                **common,
            )
        if kind == "test":
            sampled_at = dt.datetime.fromisoformat(str(document["sampled_at"]))
            if sampled_at.tzinfo is None:
                raise ValueError("sampled_at: give the time's offset (Z or +01:00)")
            return TestResult(
                holder,
                test_type=str(document["test_type"]),
                sampled_at=sampled_at,
                result=str(document["result"]),
                centre=str(document["centre"]),
                test_name=str(document.get("test_name", "")),
                device=str(document.get("device", "")),
                **common,
            )
        return Recovery(
            holder,
            first_positive=dt.date.fromisoformat(str(document["first_positive"])),
            valid_from=dt.date.fromisoformat(str(document["valid_from"])),
            valid_until=dt.date.fromisoformat(str(document["valid_until"])),
            **common,
        )
    except (KeyError, ValueError, TypeError) as error:
        raise InputFileError(
            f"not a certificate record: {error!r}", code="dcc_invalid_record", reason=str(error)
        ) from None


def certificate_payload(facts: CertificateFacts, uvci: str) -> dict[str, Any]:
    """The payload (not yet checked: see :func:`check_payload`)."""
    holder = facts.holder
    names: dict[str, str] = {"fn": holder.family_name, "fnt": icao_transliterate(holder.family_name)}
    if holder.given_name:
        names |= {"gn": holder.given_name, "gnt": icao_transliterate(holder.given_name)}
    return {"ver": SCHEMA_VERSION, "nam": names, "dob": holder.birth_date, facts.kind: [facts.entry(uvci)]}


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
