"""The certificate on paper: one A4 page from our composer, printed at the physician's desk or posted.

The page shows what the certificate's signed payload says, read back from it, and the QR, which *is*
the certificate (the ``HC1:`` string, alphanumeric mode, level Q, 45 mm plus its quiet zone): the
holder and birth date, then by kind a vaccination's vaccine, dose, date and country, a test's type,
name or device, sample time, result and centre, or a recovery's first positive test and validity;
the issuer, the expiry and the UVCI. Codes are shown by name in the certificate's language
(:func:`value_name`). The template is the folder ``certificate_template/`` (fr, de, en). A posted
certificate carries the piece's reference in its footer, never a personal code.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import tomllib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date

from courrier.certificates.issue import IssuedCertificate
from courrier.certificates.payload import DATA, VALUE_SET_OF
from courrier.compose import PERSON_FIELDS, Template, compose_job, load_template
from courrier.compose.formats import format_date, locale_of
from courrier.errors import CompositionError, InputFileError

TEMPLATE = Path(__file__).parent / "certificate_template"
# The register fields a certificate and its letter need: the composer's person, and the birth date.
HOLDER_FIELDS = (*PERSON_FIELDS, "birth_date")
# A test's sample time is printed in the print shop's time zone, with its offset.
LOCAL_TIME = ZoneInfo("Europe/Luxembourg")


@functools.cache
def certificate_template() -> Template:
    """The certificate template, loaded and checked once per process."""
    return load_template(TEMPLATE)


def certificate_language(language: str | None) -> str:
    """The template's language a person of ``language`` gets (pt and lb: see ``template.toml``)."""
    return certificate_template().language_for(language or "")


@functools.cache
def _value_set(value_set: str) -> dict[str, str]:
    document = json.loads((DATA / "valuesets" / f"{value_set}.json").read_text(encoding="utf-8"))
    return {code: str(entry["display"]) for code, entry in document["valueSetValues"].items()}


@functools.cache
def _our_names() -> dict[str, dict[str, dict[str, str]]]:
    with (TEMPLATE / "value_sets.toml").open("rb") as file:
        return tomllib.load(file)


@functools.cache
def value_name(value_set: str, code: str, language: str) -> str:
    """What a certificate in ``language`` calls ``code`` of ``value_set``: our own name in that language
    (``certificate_template/value_sets.toml``), a country's CLDR name, or else the value set's (English)
    name; the code itself when the value set has no such code."""
    ours = _our_names().get(language, {}).get(value_set, {}).get(code)
    if ours:
        return ours
    if value_set == "country-2-codes" and language != "en":
        named = Locale.parse(locale_of(language)).territories.get(code)
        if named:
            return str(named)
    return _value_set(value_set).get(code, code)


def certificate_fields(issued: IssuedCertificate, language: str | None = None) -> dict[str, Any]:
    """The template's fields of a certificate, from its payload (``qr`` the ``HC1:``), with its codes
    named in ``language`` (as :func:`certificate_language` takes it; the template's default
    without)."""
    language = certificate_language(language)
    payload = issued.payload
    kind = next((each for each in VALUE_SET_OF if payload.get(each)), None)
    if kind is None:
        raise InputFileError("the certificate holds no entry to print", code="dcc_invalid_record")
    entry, names = payload[kind][0], payload["nam"]

    def shown(field: str) -> str:
        code = entry.get(field)
        return value_name(VALUE_SET_OF[kind][field], str(code), language) if code else ""

    fields: dict[str, Any] = {
        "kind": kind,
        "qr": issued.hc1,
        "uvci": issued.uvci,
        "holder_name": " ".join(part for part in (names.get("gn"), names.get("fn")) if part),
        "birth_date": _partial_date(str(payload["dob"]), language),
        "disease": shown("tg"),
        "event_country": shown("co"),
        "issuer": entry["is"],
        "valid_until": issued.expires_at.astimezone(dt.UTC).date().isoformat(),
    }
    if kind == "v":
        fields |= {
            "prophylaxis": shown("vp"),
            "product": shown("mp"),
            "manufacturer": shown("ma"),
            "dose": f"{entry['dn']}/{entry['sd']}",
            "vaccinated_on": entry["dt"],
        }
    elif kind == "t":
        sampled = dt.datetime.fromisoformat(entry["sc"]).astimezone(LOCAL_TIME)
        offset = sampled.strftime("%z")
        fields |= {
            "test_type": shown("tt"),
            "test_name": entry.get("nm", ""),
            "test_device": shown("ma"),
            "sampled_on": sampled.date().isoformat(),
            "sampled_time": f"{sampled:%H:%M} (UTC{offset[:3]}:{offset[3:]})",
            "test_result": shown("tr"),
            "test_centre": entry["tc"],
        }
    else:
        fields |= {"first_positive": entry["fr"], "recovery_from": entry["df"], "recovery_until": entry["du"]}
    return fields


def _partial_date(value: str, language: str) -> str:
    """A birth date as the payload has it, in ``language``: a whole date long, ``YYYY-MM`` as the month
    and year, ``YYYY`` as it is (the schema allows all three, and an empty one)."""
    parts = value.split("-")
    if len(parts) == 3:
        return format_date(value, language)
    if len(parts) == 2:
        day = dt.date(int(parts[0]), int(parts[1]), 1)
        return str(babel_format_date(day, format="LLLL y", locale=locale_of(language)))
    return value


def certificate_pdf(issued: IssuedCertificate, person: dict[str, Any]) -> bytes:
    """The one-page certificate of ``issued`` for ``person`` (register fields; ``language`` the one to
    write in). Refuses what the composer refuses (a name too long for its box, say)."""
    out = io.BytesIO()
    fields = certificate_fields(issued, person.get("language"))
    record = {"piece_id": issued.uvci, "piece_ref": "", "person": person, **fields}
    result = compose_job(certificate_template(), [record], out, job_id="certificate")
    if result.failures:
        first = result.failures[0]
        code = first.error_code  # the composer's own refusal, passed on
        raise CompositionError(
            f"the certificate {issued.uvci} cannot be composed: {first.error_message}",
            code=code,
            field=first.error_field,
        )
    return out.getvalue()
