"""The SEPA credit transfer file (ISO 20022 ``pain.001.001.03``) that pays a run's statements.

Made with ``sepaxml`` (a maintained implementation, MIT) and checked against the ``pain.001.001.03``
schema it ships, with ``xmlschema``. One batch (``PmtInf``) from the ministry's account (the payer file,
:func:`load_payer`) with one transfer per statement whose total is above zero:

- ``EndToEndId``: the statement's number, which the establishment finds on its bank statement;
- ``InstdAmt``: the statement's total in EUR; ``Ustrd``: "Bons d'hebergement, releve NUMBER, FROM - TO";
- the creditor's name as the statement names it, in the EPC's SEPA character set (transliterated by
  sepaxml, what is still outside it a space).

``GrpHdr/CtrlSum`` is the sum of the transfers, ``NbOfTxs`` their number: the statements' totals, which
tests check. sepaxml draws the message and batch identifiers at random and dates the file with the
clock; they are set here from the run (``MsgId`` and ``PmtInfId`` from its number, ``CreDtTm`` its time),
so that a run's file is the same bytes whenever it is made again.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from courrier.errors import ConfigError, InputFileError
from courrier.vouchers.statement_files import Statement

SCHEMA = "pain.001.001.03"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"
_NS = {"p": NAMESPACE}
# What every SEPA bank accepts in names and remittance texts (the EPC's Latin character set); sepaxml has
# already transliterated the rest to ASCII ("Ösling" to "Osling"), what remains ("&", "*") becomes a space.
_SEPA_UNSAFE = re.compile(r"[^A-Za-z0-9/?:().,'+ -]")


@dataclass(frozen=True)
class Payer:
    """The account the reimbursements are paid from (the ministry's)."""

    name: str
    iban: str
    bic: str


@dataclass(frozen=True)
class Transfers:
    """What a credit transfer file holds, read back from its XML."""

    count: int
    total_cents: int
    amounts_cents: dict[str, int]  # EndToEndId (the statement's number) -> amount


def load_payer(path: Path) -> Payer:
    """The payer file: TOML with ``name``, ``iban`` and ``bic`` (``COURRIER_PAYER_ACCOUNT``)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(
            f"the payer account file {path} does not exist (COURRIER_PAYER_ACCOUNT)", code="payer_missing"
        ) from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: {error}", code="bad_payer_account") from error
    missing = [key for key in ("name", "iban", "bic") if not isinstance(raw.get(key), str) or not raw[key]]
    if missing or set(raw) - {"name", "iban", "bic"}:
        raise ConfigError(
            f"{path}: give name, iban and bic (text), nothing else"
            + (f"; missing: {', '.join(missing)}" if missing else ""),
            code="bad_payer_account",
        )
    return Payer(raw["name"], "".join(raw["iban"].split()).upper(), raw["bic"].strip().upper())


def credit_transfer(
    payer: Payer,
    statements: Sequence[Statement],
    *,
    message_id: str,
    created_at: dt.datetime,
    execution_date: dt.date,
) -> bytes:
    """The pain.001 file paying every statement of ``statements`` whose total is above zero, checked
    against the schema (:func:`validate_credit_transfer`)."""
    from sepaxml import SepaTransfer

    transfer = SepaTransfer(
        {"name": payer.name, "IBAN": payer.iban, "BIC": payer.bic, "batch": True, "currency": "EUR"},
        schema=SCHEMA,
    )
    for statement in statements:
        if statement.total_cents <= 0:
            continue
        payment: dict[str, Any] = {
            "name": statement.payee.name,
            "IBAN": "".join(statement.payee.iban.split()).upper(),
            "amount": statement.total_cents,
            "execution_date": execution_date,
            "description": (
                f"Bons d'hebergement, releve {statement.number}, "
                f"{statement.period_from.isoformat()} - {statement.period_to.isoformat()}"
            ),
            "endtoend_id": statement.number,
        }
        if statement.payee.bic:
            payment["BIC"] = statement.payee.bic
        transfer.add_payment(payment)
    document = ET.fromstring(transfer.export(validate=False))
    header = document.find("p:CstmrCdtTrfInitn/p:GrpHdr", _NS)
    assert header is not None
    _set(header, "p:MsgId", message_id)
    _set(header, "p:CreDtTm", created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    for number, batch in enumerate(document.iterfind("p:CstmrCdtTrfInitn/p:PmtInf", _NS), start=1):
        _set(batch, "p:PmtInfId", f"{message_id}-{number}")
    for path in (".//p:Nm", ".//p:Ustrd"):
        for node in document.iterfind(path, _NS):
            node.text = " ".join(_SEPA_UNSAFE.sub(" ", node.text or "").split())
    ET.register_namespace("", NAMESPACE)
    body: bytes = ET.tostring(document, encoding="utf-8", xml_declaration=False)
    xml = b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"
    validate_credit_transfer(xml)
    return xml


def _set(parent: ET.Element, path: str, text: str) -> None:
    node = parent.find(path, _NS)
    assert node is not None, path
    node.text = text


@cache
def _schema() -> Any:
    import xmlschema

    with resources.as_file(resources.files("sepaxml").joinpath("schemas", f"{SCHEMA}.xsd")) as path:
        return xmlschema.XMLSchema(str(path))


def validate_credit_transfer(xml: bytes) -> None:
    """Refuse (``sepa_invalid``, naming the first problem) a file the pain.001.001.03 schema rejects."""
    import xmlschema

    try:
        _schema().validate(xml.decode("utf-8"))
    except (xmlschema.XMLSchemaValidationError, ET.ParseError, UnicodeDecodeError) as error:
        reason = getattr(error, "reason", None) or str(error).splitlines()[0]
        path = getattr(error, "path", None)
        raise InputFileError(
            f"the SEPA file does not match the {SCHEMA} schema: {reason}" + (f" (at {path})" if path else ""),
            code="sepa_invalid",
        ) from error


def read_transfers(xml: bytes) -> Transfers:
    """The transfers of a pain.001 file, and its declared total, checked to agree with each other."""
    document = ET.fromstring(xml)
    amounts: dict[str, int] = {}
    for transaction in document.iterfind(".//p:CdtTrfTxInf", _NS):
        end_to_end = transaction.findtext("p:PmtId/p:EndToEndId", "", _NS)
        amounts[end_to_end] = _cents(transaction.findtext("p:Amt/p:InstdAmt", "0", _NS))
    header = document.find("p:CstmrCdtTrfInitn/p:GrpHdr", _NS)
    assert header is not None
    count = int(header.findtext("p:NbOfTxs", "0", _NS))
    total = _cents(header.findtext("p:CtrlSum", "0", _NS))
    if count != len(amounts) or total != sum(amounts.values()):
        raise InputFileError(
            f"the SEPA file declares {count} transfers of {total / 100:.2f} in all but holds "
            f"{len(amounts)} of {sum(amounts.values()) / 100:.2f}",
            code="sepa_invalid",
        )
    return Transfers(count, total, amounts)


def _cents(text: str) -> int:
    return int(Decimal(text).scaleb(2))
