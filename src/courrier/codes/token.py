"""Signed tokens: a QR payload a centre or hotel can check offline with a public key.

A token is 79 bytes, base45-encoded (RFC 9285) into 119 characters of the QR alphanumeric set::

    offset  size  field
    0       1     format version: 1
    1       2     signing key id, big-endian (which public key verifies it; keys rotate by id)
    3       4     campaign id, big-endian
    7       4     code id, big-endian
    11      2     valid from: days since 1970-01-01, big-endian
    13      2     valid until (last valid day): days since 1970-01-01, big-endian
    15      64    Ed25519 signature of bytes 0..14

A campaign's QR content may put the token in a URL (``https://verify.example.lu/v/{token}``); there it is
percent-encoded (:func:`quote_token`), since base45 holds ``/``, ``%``, ``+`` and space, and
:func:`token_in_qr` takes it back out of what a scanner read.

It carries ids and dates only, never personal data. The dates are those at signing: after a campaign's
validity is extended, tokens must be signed (and printed) again for offline verifiers to accept the new
date.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from courrier import base45
from courrier.codes.keys import Keys
from courrier.errors import CodeError
from courrier.result import Result

VERSION = 1
_EPOCH = dt.date(1970, 1, 1)
_CLAIMS = struct.Struct(">BHIIHH")
_SIGNATURE_BYTES = 64
TOKEN_BYTES = _CLAIMS.size + _SIGNATURE_BYTES
# A version 1 token's second character is one of 5-9, A, B: it is never taken for a URL.
_URL = re.compile(r"https?://", re.IGNORECASE)


@dataclass(frozen=True)
class TokenClaims(Result):
    key_id: int
    campaign_id: int
    code_id: int
    valid_from: dt.date
    valid_until: dt.date


def sign_token(
    keys: Keys,
    *,
    campaign_id: int,
    code_id: int,
    valid_from: dt.date,
    valid_until: dt.date,
    key_id: int | None = None,
) -> str:
    """The base45 token for these claims, signed with ``key_id`` (default: the newest signing key)."""
    key_id = keys.signing_key_id if key_id is None else key_id
    keys.public_key(key_id)  # fails in one line on an unknown id
    claims = _CLAIMS.pack(VERSION, key_id, campaign_id, code_id, _days(valid_from), _days(valid_until))
    signature = keys.signing_keys[key_id].sign(claims)
    return base45.encode(claims + signature)


def quote_token(content: str, token: str) -> str:
    """The token as it goes into the campaign's QR ``content``: percent-encoded when that is a URL."""
    return quote(token, safe="") if _URL.match(content) else token


def token_in_qr(scanned: str) -> str:
    """The token in what a scanner read from a letter: the whole text, or in a URL its last query value
    or else its last path segment, percent-decoded."""
    text = scanned.strip("\r\n")
    if not _URL.match(text):
        return text
    parts = urlsplit(text)
    if parts.query:
        return unquote(parts.query.rsplit("&", 1)[-1].rsplit("=", 1)[-1])
    return unquote(parts.path.rsplit("/", 1)[-1])


def verify_token(
    token: str,
    public_keys: Mapping[int, Ed25519PublicKey],
    today: dt.date,
    *,
    campaign_id: int | None = None,
    revoked: Collection[int] = (),
    check_dates: bool = True,
) -> TokenClaims:
    """The claims of a genuine token valid on ``today``; a :class:`CodeError` otherwise.

    Every campaign signs with the same key, so a verifier names the campaign it accepts
    (``campaign_id``); ``revoked`` holds the code ids of a revocation list
    (``courrier.codes.revocations``). Error codes: ``bad_token`` (not base45 or wrong length),
    ``unsupported_version``, ``unknown_key``, ``bad_signature``, ``wrong_campaign``, ``code_revoked``,
    ``token_not_yet_valid``, ``token_expired``. With ``check_dates`` False the dates are not judged
    (a centre checks in a booked dose 2 after the code's validity).
    """
    key_id, claims, signature = _read(token, public_keys)
    _check_signature(public_keys[key_id], signature, claims)
    return _judged(claims, today, campaign_id=campaign_id, revoked=revoked, check_dates=check_dates)


def verify_own_token(
    token: str,
    keys: Keys,
    today: dt.date,
    *,
    campaign_id: int | None = None,
    revoked: Collection[int] = (),
    check_dates: bool = True,
) -> TokenClaims:
    """:func:`verify_token` with ``keys.verifying_keys``, the same answers, for the holder of the signing
    keys (the print shop's own services: a voucher's redemption).

    Ed25519 signatures are deterministic (RFC 8032): the token's claims signed again with its key give
    the signature of every token signed with it, compared in constant time (a comparison that stopped
    at the first difference would tell a forger how much of a signature is right). Signing costs a
    third of a verification. Any other signature (a forged one, or one from a signer that is not
    deterministic) is verified in full, so only a verification decides that a token is forged.
    """
    key_id, claims, signature = _read(token, keys.verifying_keys)
    if not hmac.compare_digest(keys.signing_keys[key_id].sign(claims), signature):
        _check_signature(keys.verifying_keys[key_id], signature, claims)
    return _judged(claims, today, campaign_id=campaign_id, revoked=revoked, check_dates=check_dates)


def _read(token: str, public_keys: Mapping[int, Ed25519PublicKey]) -> tuple[int, bytes, bytes]:
    """``(key id, signed bytes, signature)`` of a token in our format, signed with a known key id."""
    try:
        # Space is a base45 character: strip line ends only.
        raw = base45.decode(token.strip("\r\n").upper())
    except ValueError as error:
        raise CodeError(f"not a token (not base45: {error})", code="bad_token") from None
    if len(raw) != TOKEN_BYTES:
        raise CodeError(f"not a token: {len(raw)} bytes, expected {TOKEN_BYTES}", code="bad_token")
    claims, signature = raw[: _CLAIMS.size], raw[_CLAIMS.size :]
    version, key_id = claims[0], int.from_bytes(claims[1:3], "big")
    if version != VERSION:
        raise CodeError(f"token format version {version} is not supported", code="unsupported_version")
    if key_id not in public_keys:
        known = ", ".join(str(k) for k in sorted(public_keys)) or "none"
        raise CodeError(f"token signed with key id {key_id}, not one given ({known})", code="unknown_key")
    return key_id, claims, signature


def _check_signature(public_key: Ed25519PublicKey, signature: bytes, claims: bytes) -> None:
    try:
        public_key.verify(signature, claims)
    except InvalidSignature:
        raise CodeError(
            "signature does not match: the token is forged or altered", code="bad_signature"
        ) from None


def _judged(
    claims: bytes, today: dt.date, *, campaign_id: int | None, revoked: Collection[int], check_dates: bool
) -> TokenClaims:
    """The claims of a genuine token, judged: campaign, revocation list, dates."""
    _version, key_id, signed_campaign, code_id, valid_from, valid_until = _CLAIMS.unpack(claims)
    result = TokenClaims(key_id, signed_campaign, code_id, _date(valid_from), _date(valid_until))
    if campaign_id is not None and signed_campaign != campaign_id:
        raise CodeError(
            f"token of campaign {signed_campaign}, not of campaign {campaign_id}", code="wrong_campaign"
        )
    if code_id in revoked:
        raise CodeError(f"code {code_id} is revoked (revocation list)", code="code_revoked")
    if not check_dates:
        return result
    if today < result.valid_from:
        raise CodeError(f"token valid from {result.valid_from} only", code="token_not_yet_valid")
    if today > result.valid_until:
        raise CodeError(f"token expired on {result.valid_until}", code="token_expired")
    return result


def _days(day: dt.date) -> int:
    days = (day - _EPOCH).days
    if not 0 <= days <= 0xFFFF:
        raise ValueError(f"date {day} outside what a token can carry (1970-01-01..2149-06-06)")
    return days


def _date(days: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=days)
