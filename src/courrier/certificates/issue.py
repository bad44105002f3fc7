"""Issuing a certificate: payload, CWT, COSE_Sign1 (ES256), zlib, base45, ``HC1:``.

The CWT's claims: ``iss`` (1) the issuing country, ``iat`` (6) and ``exp`` (4) in seconds since the
epoch, ``hcert`` (-260) ``{1: payload}``. The expiry is ``validity_days`` after issue, never later
than the DSC's own end (a verifier would refuse it from then on).
"""

from __future__ import annotations

import datetime as dt
import zlib
from base64 import b64encode
from dataclasses import dataclass
from typing import Any

import cbor2

from courrier.certificates import base45
from courrier.certificates.cose import sign1
from courrier.certificates.payload import VaccinationRecord, check_payload, vaccination_payload
from courrier.certificates.pki import Signer
from courrier.certificates.uvci import new_uvci
from courrier.certificates.verify import EXP, HCERT, IAT, ISS, PREFIX
from courrier.errors import ConfigError
from courrier.result import Result

VALIDITY_DAYS = 365


@dataclass(frozen=True)
class IssuedCertificate(Result):
    uvci: str
    hc1: str
    kid: str  # base64, as in the trust list
    issued_at: dt.datetime
    expires_at: dt.datetime
    payload: dict[str, Any]


def issue_vaccination(
    record: VaccinationRecord,
    signer: Signer,
    now: dt.datetime,
    *,
    validity_days: int = VALIDITY_DAYS,
    uvci: str | None = None,
) -> IssuedCertificate:
    """The signed certificate of ``record``; refuses a record the schema or value sets refuse
    (``dcc_invalid_record``) and a signer whose DSC may not sign vaccinations (``dcc_signer_kind``)."""
    if "v" not in signer.kinds:
        raise ConfigError(
            "the DSC may not sign vaccination certificates (its extended key usages leave them out)",
            code="dcc_signer_kind",
        )
    identifier = uvci or new_uvci(signer.country or record.country)
    payload = vaccination_payload(record, identifier)
    check_payload(payload)
    return sign_payload(payload, identifier, signer, now, validity_days=validity_days)


def sign_payload(
    payload: dict[str, Any],
    uvci: str,
    signer: Signer,
    now: dt.datetime,
    *,
    validity_days: int = VALIDITY_DAYS,
) -> IssuedCertificate:
    issued_at = now.replace(microsecond=0)
    expires_at = min(issued_at + dt.timedelta(days=validity_days), signer.certificate.not_valid_after_utc)
    claims = {
        ISS: signer.country,
        IAT: int(issued_at.timestamp()),
        EXP: int(expires_at.timestamp()),
        HCERT: {1: payload},
    }
    message = sign1(cbor2.dumps(claims), signer.key, signer.kid)
    hc1 = PREFIX + base45.encode(zlib.compress(message, 9))
    return IssuedCertificate(uvci, hc1, b64encode(signer.kid).decode(), issued_at, expires_at, payload)
