"""What a reception desk read, turned into whom it names: a booking reference or a code.

A desk reads one of:

- the confirmation letter's QR, ``RDV1:<reference>`` (``booking.confirmation``);
- the invitation letter's QR: the campaign's QR content, a URL or text holding the personal code
  (``https://…/c/ABCDEFGHJKMNPQ``) or, for a signed campaign, a signed token (``codes.token``), alone or
  in a URL;
- a typed personal code (dashes, case and look-alike characters forgiven, as on the booking site) or a
  typed booking reference (8 characters);
- a typed national identification number (13 digits, from the social-security card), for a person who
  came without a letter: it names that person's codes, and ``desk`` picks the one for today.

Nothing here says whether the person may be checked in (``desk`` does); a token's dates are not judged
either, since a booked dose 2 comes after the code's two weeks.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, bindparam, select

from courrier.booking.code_entry import candidates
from courrier.booking.confirmation import RECEPTION_PREFIX, read_reception_payload
from courrier.codes.format import ALPHABET, CODE_LENGTH, normalise
from courrier.codes.keys import Keys
from courrier.codes.sealing import code_hmac
from courrier.codes.token import token_in_qr, verify_token
from courrier.db.schema import codes, persons
from courrier.errors import ConflictError, NotFoundError
from courrier.register.matricule import matricule_problem

REFERENCE_LENGTH = 8
NATIONAL_ID = "YYYYMMDDNNNCC"  # the matricule's 13 digits: birth date, sequence, two check digits
# verify_token wants a day even when the dates are not judged.
_ANY_DAY = dt.date(2000, 1, 1)
_BY_HMAC = select(codes.c.id).where(codes.c.hmac.in_(bindparam("digests", expanding=True)))


@dataclass(frozen=True)
class Reading:
    """Whom a desk's input names: a booking ``reference``, a ``code_id`` (its bookings are looked up), or
    a person's ``code_ids`` (typed by national id, newest campaign first)."""

    reference: str | None = None
    code_id: int | None = None
    code_ids: tuple[int, ...] = ()


def read_scan(connection: Connection, keys: Keys, text: str) -> Reading:
    """What a scanned QR names. Refusals: ``bad_reception_qr`` (an ``RDV1:`` that is not a reference),
    ``unknown_code``, a token's (``bad_token``, ``bad_signature``, ``unknown_key``, ...)."""
    stripped = text.strip()
    if stripped.upper().startswith(RECEPTION_PREFIX):
        return Reading(reference=read_reception_payload(RECEPTION_PREFIX + stripped[len(RECEPTION_PREFIX) :]))
    inner = token_in_qr(stripped)
    if len(normalise(inner)) == CODE_LENGTH:
        return Reading(code_id=_code_id(connection, keys, inner))
    claims = verify_token(inner, _public_keys(keys), _ANY_DAY, check_dates=False)
    row = connection.execute(
        select(codes.c.id).where(codes.c.id == claims.code_id, codes.c.campaign_id == claims.campaign_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError("no such code: it was never issued", code="unknown_code")
    return Reading(code_id=int(row.id))


def read_typed(connection: Connection, keys: Keys, text: str) -> Reading:
    """What a typed text names: a booking reference (8 characters of the code alphabet, or ``RDV1:…``),
    a national id (13 digits; ``bad_matricule``, ``unknown_person``, ``no_code_for_person``) or a personal
    code (its format errors: ``wrong_length``, ``bad_character``, ``bad_check_character``;
    ``unknown_code``)."""
    compact = normalise(text)
    # Codes have no 0 or 1 and are 14 characters long: 13 digits can only be a national id.
    if len(compact) == len(NATIONAL_ID) and compact.isdigit():
        return Reading(code_ids=_codes_of_person(connection, compact))
    if compact.startswith(RECEPTION_PREFIX):
        return Reading(reference=read_reception_payload(compact))
    if len(compact) == REFERENCE_LENGTH and all(character in ALPHABET for character in compact):
        return Reading(reference=compact)
    return Reading(code_id=_code_id(connection, keys, text))


def _codes_of_person(connection: Connection, national_id: str) -> tuple[int, ...]:
    problem = matricule_problem(national_id)
    if problem is not None:
        raise ConflictError(f"matricule: {problem}", code="bad_matricule")
    person = connection.execute(select(persons.c.id).where(persons.c.national_id == national_id)).scalar()
    if person is None:
        raise NotFoundError("no person with this national id in the register", code="unknown_person")
    found = connection.execute(
        select(codes.c.id).where(codes.c.person_id == person).order_by(codes.c.campaign_id.desc())
    ).scalars()
    code_ids = tuple(int(code_id) for code_id in found)
    if not code_ids:
        raise NotFoundError("this person has no code in any campaign", code="no_code_for_person")
    return code_ids


def _code_id(connection: Connection, keys: Keys, typed: str) -> int:
    digests = [code_hmac(keys, code) for code in candidates(typed)]
    found = list(connection.execute(_BY_HMAC, {"digests": digests}).scalars())
    if len(found) != 1:
        raise NotFoundError("no such code: it was never issued (or typed wrongly)", code="unknown_code")
    return int(found[0])


@functools.cache
def _keys_of(signing: tuple[tuple[int, bytes], ...]) -> dict[int, Ed25519PublicKey]:
    return {key_id: Ed25519PublicKey.from_public_bytes(raw) for key_id, raw in signing}


def _public_keys(keys: Keys) -> dict[int, Ed25519PublicKey]:
    return _keys_of(tuple(sorted((key_id, public_raw(keys, key_id)) for key_id in keys.signing_keys)))


def public_raw(keys: Keys, key_id: int) -> bytes:
    """The raw 32 bytes of signing key ``key_id``'s public key (the offline list gives them)."""
    return keys.public_key(key_id).public_bytes(Encoding.Raw, PublicFormat.Raw)
