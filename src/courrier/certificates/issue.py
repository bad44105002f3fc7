"""Issuing a certificate: payload, CWT, COSE_Sign1 (ES256), zlib, base45, ``HC1:``.

The CWT's claims: ``iss`` (1) the issuing country, ``iat`` (6) and ``exp`` (4) in seconds since the
epoch, ``hcert`` (-260) ``{1: payload}``. The expiry is ``validity_days`` after issue, never later
than the DSC's own end (a verifier would refuse it from then on), nor, for a recovery, than the end
of its ``du`` day.

A certificate issued again for the same stored record is the same certificate: with ``subject`` (say
``vaccination:42``) the UVCI is derived from it under the DSC's key (:func:`uvci.derived_uvci`), the
time is the record's, and the signature is deterministic (RFC 6979), so a reprint carries the very
``HC1:`` string of the first print and a revoked UVCI stays revoked.
"""

from __future__ import annotations

import datetime as dt
import zlib
from base64 import b64encode
from dataclasses import dataclass
from typing import Any

import cbor2

from courrier import base45
from courrier.certificates.cose import sign1
from courrier.certificates.payload import (
    KIND_NAMES,
    CertificateFacts,
    Recovery,
    certificate_payload,
    check_payload,
)
from courrier.certificates.pki import Signer
from courrier.certificates.uvci import derived_uvci, new_uvci
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


def issue_certificate(
    facts: CertificateFacts,
    signer: Signer,
    now: dt.datetime,
    *,
    validity_days: int = VALIDITY_DAYS,
    uvci: str | None = None,
    subject: str | None = None,
) -> IssuedCertificate:
    """The signed certificate of ``facts`` (a vaccination, a test result or a recovery); refuses facts
    the schema or value sets refuse (``dcc_invalid_record``) and a signer whose DSC may not sign this
    kind (``dcc_signer_kind``). ``subject`` names a stored record: see the module's docstring."""
    if facts.kind not in signer.kinds:
        raise ConfigError(
            f"the DSC may not sign {KIND_NAMES[facts.kind]} certificates (its extended key usages "
            "leave them out)",
            code="dcc_signer_kind",
        )
    country = signer.country or facts.country
    if uvci is None:
        uvci = derived_uvci(signer.secret, country, subject) if subject else new_uvci(country)
    payload = certificate_payload(facts, uvci)
    check_payload(payload)
    latest = None
    if isinstance(facts, Recovery):
        latest = dt.datetime.combine(facts.valid_until, dt.time(23, 59, 59), dt.UTC)
    return sign_payload(
        payload, uvci, signer, now, validity_days=validity_days, latest=latest, deterministic=bool(subject)
    )


def sign_payload(
    payload: dict[str, Any],
    uvci: str,
    signer: Signer,
    now: dt.datetime,
    *,
    validity_days: int = VALIDITY_DAYS,
    latest: dt.datetime | None = None,
    deterministic: bool = False,
) -> IssuedCertificate:
    issued_at = now.replace(microsecond=0)
    expires_at = min(issued_at + dt.timedelta(days=validity_days), signer.certificate.not_valid_after_utc)
    if latest is not None:
        expires_at = min(expires_at, latest)
    claims = {
        ISS: signer.country,
        IAT: int(issued_at.timestamp()),
        EXP: int(expires_at.timestamp()),
        HCERT: {1: payload},
    }
    message = sign1(cbor2.dumps(claims), signer.key, signer.kid, deterministic=deterministic)
    hc1 = PREFIX + base45.encode(zlib.compress(message, 9))
    return IssuedCertificate(uvci, hc1, b64encode(signer.kid).decode(), issued_at, expires_at, payload)
