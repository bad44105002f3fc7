"""Verifying a DCC step by step, as a verifier app does, naming the first step that fails.

Steps, in order (``STEPS``): ``prefix`` (``HC1:``), ``base45``, ``zlib`` (compressed, as the
specification requires), ``cose`` (a COSE_Sign1 whose payload is a CWT holding a DCC), ``kid`` (the
signer is in the trust list: the protected header's kid, else the unprotected one's), ``signature``,
``key_usage`` (the DSC may sign this kind: vaccination, test, recovery), ``schema`` (the official
schema, one entry of one kind), ``value_sets`` (every code in its value set), ``not_yet_valid`` (the
time is before the CWT's issue time or the DSC's start), ``expired`` (after the CWT's expiry or the
DSC's end), ``revoked`` (the UVCI's hash is on the revocation list).

Each step is ``ok`` true, false, or null when it could not be checked (an earlier step it needs
failed, or there is nothing to check it against: no revocation list). Decoding stops at the first
failing step of ``prefix`` .. ``cose``; after that every check that has what it needs still runs, so
the answer says everything that is wrong. ``valid`` is true when no step failed.
"""

from __future__ import annotations

import base64
import datetime as dt
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cbor2

from courrier import base45
from courrier.certificates.cose import ALG, COSE_SIGN1_TAG, CWT_TAG, KID, check_signature, sig_structure
from courrier.certificates.payload import KIND_NAMES, kind_of, schema_problems, unknown_codes
from courrier.certificates.pki import TrustedSigner
from courrier.certificates.revocation import uci_hash
from courrier.result import Result

PREFIX = "HC1:"
STEPS = (
    "prefix",
    "base45",
    "zlib",
    "cose",
    "kid",
    "signature",
    "key_usage",
    "schema",
    "value_sets",
    "not_yet_valid",
    "expired",
    "revoked",
)
HCERT = -260
ISS, IAT, EXP = 1, 6, 4
_MAX_INFLATED = 1 << 16  # a DCC is a few hundred bytes: a zip bomb stops here


@dataclass(frozen=True)
class Step:
    ok: bool | None
    detail: str = ""


@dataclass(frozen=True)
class Verification(Result):
    valid: bool
    failed_step: str | None
    steps: dict[str, Step]
    payload: dict[str, Any] | None = None
    # What the verifier learnt on the way, for the text report (not in ``to_json``).
    facts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"valid", "failed_step", "steps": {name: {"ok", "detail"}}, "payload"}``, the interface
        verifiers' scripts rely on (the facts are for people: the text report)."""
        full = super().to_json()
        del full["facts"]
        full["payload"] = _shown(self.payload)
        return full


class _Checks:
    def __init__(self) -> None:
        self.steps: dict[str, Step] = {}

    def passed(self, step: str, detail: str = "") -> None:
        self.steps[step] = Step(True, detail)

    def failed(self, step: str, detail: str) -> None:
        self.steps[step] = Step(False, detail)

    def unchecked(self, step: str, detail: str) -> None:
        self.steps.setdefault(step, Step(None, detail))

    def result(self, payload: dict[str, Any] | None, facts: dict[str, Any]) -> Verification:
        for step in STEPS:
            self.unchecked(step, "not reached: an earlier step failed")
        steps = {step: self.steps[step] for step in STEPS}
        failed = next((step for step in STEPS if steps[step].ok is False), None)
        return Verification(failed is None, failed, steps, payload, facts)


def verify_hc1(
    hc1: str,
    trust: Sequence[TrustedSigner],
    at: dt.datetime,
    revoked: Collection[str] | None = None,
) -> Verification:
    """Verify ``hc1`` against the signers of ``trust`` at time ``at`` (aware), with the revocation
    list's hashes ``revoked`` (None: no list, the step is not checked)."""
    checks = _Checks()
    facts: dict[str, Any] = {}
    text = hc1.strip()
    if not text.startswith(PREFIX):
        checks.failed("prefix", f"does not start with {PREFIX} (starts with {text[:4]!r})")
        return checks.result(None, facts)
    checks.passed("prefix")
    try:
        compressed = base45.decode(text[len(PREFIX) :])
    except ValueError as error:
        checks.failed("base45", str(error))
        return checks.result(None, facts)
    checks.passed("base45")
    try:
        inflater = zlib.decompressobj()
        message = inflater.decompress(compressed, _MAX_INFLATED)
        if inflater.unconsumed_tail or not inflater.eof:
            raise zlib.error("truncated, or larger than a certificate can be")
    except zlib.error as error:
        checks.failed("zlib", f"not zlib-compressed data: {error}")
        return checks.result(None, facts)
    checks.passed("zlib")
    decoded = _decode_cose(message)
    if isinstance(decoded, str):
        checks.failed("cose", decoded)
        return checks.result(None, facts)
    protected_bytes, protected, unprotected, cwt_bytes, signature, claims, payload = decoded
    checks.passed("cose", f"COSE_Sign1, alg {protected.get(ALG, unprotected.get(ALG))}")
    kind = kind_of(payload)
    facts |= {"issuer_country": claims.get(ISS), "kind": KIND_NAMES.get(kind or "", None)}
    for name, key in (("issued_at", IAT), ("expires_at", EXP)):
        if _seconds(claims.get(key)) is not None:
            facts[name] = dt.datetime.fromtimestamp(claims[key], dt.UTC)

    signer = _check_signer(checks, protected, unprotected, trust, protected_bytes, cwt_bytes, signature)
    if signer is not None:
        facts["kid"] = signer.kid
        if kind is None:
            checks.unchecked("key_usage", "the certificate is of no single kind (see schema)")
        elif kind in signer.kinds:
            checks.passed("key_usage", f"the DSC may sign {KIND_NAMES[kind]} certificates")
        else:
            allowed = ", ".join(KIND_NAMES[k] for k in sorted(signer.kinds))
            checks.failed(
                "key_usage", f"a {KIND_NAMES[kind]} certificate, but the DSC may sign only: {allowed}"
            )
    problems = schema_problems(payload)
    if problems:
        checks.failed("schema", "; ".join(problems))
        checks.unchecked("value_sets", "not checked: the schema refused the payload")
    else:
        checks.passed("schema")
        unknown = unknown_codes(payload)
        if unknown:
            checks.failed("value_sets", "codes not in their value sets: " + ", ".join(unknown))
        else:
            checks.passed("value_sets")
    _check_times(checks, claims, signer, at)
    _check_revocation(checks, payload, kind, revoked)
    return checks.result(payload, facts)


def _decode_cose(
    message: bytes,
) -> tuple[bytes, dict[Any, Any], dict[Any, Any], bytes, bytes, dict[Any, Any], dict[str, Any]] | str:
    """The parts of the COSE_Sign1 message and its CWT, or why it is not one."""
    try:
        item = cbor2.loads(message)
    except (cbor2.CBORDecodeError, ValueError, TypeError, MemoryError, RecursionError) as error:
        return f"not CBOR: {error}"
    if isinstance(item, cbor2.CBORTag) and item.tag == CWT_TAG:
        item = item.value
    if isinstance(item, cbor2.CBORTag):
        if item.tag != COSE_SIGN1_TAG:
            return f"CBOR tag {item.tag}, not COSE_Sign1 ({COSE_SIGN1_TAG})"
        item = item.value
    if not isinstance(item, list | tuple) or len(item) != 4:
        return "not a COSE_Sign1 structure (an array of 4: protected, unprotected, payload, signature)"
    protected_bytes, unprotected, cwt_bytes, signature = item
    if not (
        isinstance(protected_bytes, bytes) and isinstance(cwt_bytes, bytes) and isinstance(signature, bytes)
    ):
        return "the protected header, payload and signature of a COSE_Sign1 are byte strings"
    if not _is_map(unprotected):
        return "the unprotected header of a COSE_Sign1 is a map"
    try:
        protected = cbor2.loads(protected_bytes) if protected_bytes else {}
        claims = cbor2.loads(cwt_bytes)
    except (cbor2.CBORDecodeError, ValueError, TypeError, MemoryError, RecursionError) as error:
        return f"the protected header or the payload is not CBOR: {error}"
    if not _is_map(protected):
        return "the protected header is not a map"
    if not _is_map(claims):
        return "the payload is not a CWT (a map of claims)"
    hcert = claims.get(HCERT)
    if not _is_map(hcert) or not _is_map(hcert.get(1)):
        return "the CWT holds no health certificate (claim -260 with the DCC under key 1)"
    return (
        protected_bytes,
        dict(protected),
        dict(unprotected),
        cwt_bytes,
        signature,
        dict(claims),
        _plain(hcert[1]),
    )


def _plain(value: Any) -> Any:
    """CBOR maps (frozendict keys too) and arrays as JSON's dicts and lists. Exact types first: the
    abstract ``Mapping`` check costs a tenth of a verification when done on every value."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is dict or isinstance(value, Mapping):
        return {key if type(key) is str else str(key): _plain(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [_plain(item) for item in value]
    return value


def _shown(value: Any) -> Any:
    """``value`` as JSON can print it: a CBOR value JSON has no type for (byte string, tag, date,
    NaN) as text (CBOR diagnostic notation for byte strings), so a refused payload is still shown."""
    if isinstance(value, dict):
        return {str(key): _shown(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shown(item) for item in value]
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, bytes):
        return f"h'{value.hex()}'"
    return repr(value)


def _is_map(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


def _check_signer(
    checks: _Checks,
    protected: dict[Any, Any],
    unprotected: dict[Any, Any],
    trust: Sequence[TrustedSigner],
    protected_bytes: bytes,
    cwt_bytes: bytes,
    signature: bytes,
) -> TrustedSigner | None:
    kid = protected.get(KID, unprotected.get(KID))
    if not isinstance(kid, bytes):
        checks.failed("kid", "the certificate names no signer (no kid in its headers)")
        return None
    candidates = [signer for signer in trust if signer.kid == kid]
    if not candidates:
        checks.failed("kid", f"signer {_b64(kid)} is not in the trust list ({len(trust)} signers)")
        return None
    checks.passed("kid", f"{_b64(kid)} ({candidates[0].country})")
    alg = protected.get(ALG, unprotected.get(ALG))
    signed = sig_structure(protected_bytes, cwt_bytes)
    reasons = []
    for signer in candidates:
        reason = check_signature(signer.public_key, alg, signed, signature)
        if not reason:
            checks.passed("signature", f"alg {alg}")
            return signer
        reasons.append(reason)
    checks.failed("signature", reasons[0])
    return None


def _check_times(
    checks: _Checks, claims: dict[Any, Any], signer: TrustedSigner | None, at: dt.datetime
) -> None:
    now = at.timestamp()
    iat, exp = _seconds(claims.get(IAT)), _seconds(claims.get(EXP))
    start = signer.certificate.not_valid_before_utc if signer is not None else None
    end = signer.certificate.not_valid_after_utc if signer is not None else None
    if iat is None:
        checks.failed("not_yet_valid", "the CWT has no issue time (iat) a date can hold")
    elif now < iat:
        checks.failed("not_yet_valid", f"issued at {_iso(iat)}, after {at.isoformat()}")
    elif start is not None and at < start:
        checks.failed("not_yet_valid", f"the DSC is valid from {start.isoformat()}")
    else:
        checks.passed("not_yet_valid", f"issued at {_iso(iat)}")
    if exp is None:
        checks.failed("expired", "the CWT has no expiry (exp) a date can hold")
    elif now > exp:
        checks.failed("expired", f"expired at {_iso(exp)}")
    elif end is not None and at > end:
        checks.failed("expired", f"the DSC expired at {end.isoformat()}")
    else:
        checks.passed("expired", f"valid until {_iso(exp)}")


def _check_revocation(
    checks: _Checks, payload: dict[str, Any], kind: str | None, revoked: Collection[str] | None
) -> None:
    if revoked is None:
        checks.unchecked("revoked", "no revocation list")
        return
    entries = payload.get(kind) if kind is not None else None
    entry = entries[0] if isinstance(entries, list) and entries else None
    uvci = entry.get("ci") if isinstance(entry, dict) else None
    if not isinstance(uvci, str):
        checks.unchecked("revoked", "the certificate has no identifier (ci)")
    elif uci_hash(uvci) in revoked:
        checks.failed("revoked", f"{uvci} is on the revocation list")
    else:
        checks.passed("revoked", f"not on the revocation list ({len(revoked)} entries)")


def _seconds(value: Any) -> float | None:
    """A CWT time (seconds since the epoch) that a date can hold (years 1 to 9999), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, ValueError, OSError):
        return None
    return value


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat()
