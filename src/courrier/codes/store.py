"""Personal codes in the database: look-up by HMAC, uses, revocation, re-issue, QR content.

The writes themselves (a use counted, a code revoked, a piece ended) are the ledger's
(``courrier.ledger``); this module finds the code or piece and asks it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Row, func, select
from sqlalchemy.exc import IntegrityError

from courrier.campaigns.store import Campaign, get_campaign
from courrier.codes.format import RandomBytes, format_code, parse_code, random_codes
from courrier.codes.issue import code_validity
from courrier.codes.keys import Keys
from courrier.codes.sealing import code_hmac, reveal_code, seal_codes
from courrier.codes.token import quote_token, sign_token
from courrier.db.schema import campaigns, codes, persons, pieces
from courrier.db.types import utcnow
from courrier.errors import CodeError, ConflictError, NotFoundError
from courrier.ledger.codes import NEW_CODE, REFUSALS, CodeUse, effective_status, revoke_code, use_code_id
from courrier.ledger.events import record_event
from courrier.ledger.pieces import NEW_PIECE, REISSUABLE, REISSUE_REFUSALS, move_piece
from courrier.result import Result


@dataclass(frozen=True)
class CodeLookup(Result):
    code_id: int
    campaign: str
    person_id: int
    piece_ids: list[int]
    status: str
    uses: int
    max_uses: int
    valid_from: dt.date | None
    valid_until: dt.date | None


@dataclass(frozen=True)
class Reissue(Result):
    """A re-issue done. ``to_json()`` holds the code: an edge shows it only when asked to."""

    old_piece_id: int
    new_piece_id: int
    code_id: int
    code: str
    same_code: bool
    revoked_code_id: int | None


def lookup_code(connection: Connection, keys: Keys, typed: str, today: dt.date) -> CodeLookup:
    """The code a person typed, its campaign, pieces and status; ``unknown_code`` if never issued."""
    digest = code_hmac(keys, parse_code(typed))
    row = connection.execute(
        select(codes, campaigns.c.name.label("campaign"))
        .join(campaigns, campaigns.c.id == codes.c.campaign_id)
        .where(codes.c.hmac == digest)
    ).one_or_none()
    if row is None:
        raise NotFoundError("no such code: it was never issued (or typed wrongly)", code="unknown_code")
    piece_ids = list(
        connection.execute(
            select(pieces.c.id).where(pieces.c.code_id == row.id).order_by(pieces.c.id)
        ).scalars()
    )
    return CodeLookup(
        code_id=row.id,
        campaign=row.campaign,
        person_id=row.person_id,
        piece_ids=piece_ids,
        status=effective_status(row.status, row.uses, row.max_uses, row.valid_until, today),
        uses=row.uses,
        max_uses=row.max_uses,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )


def use_code(
    connection: Connection,
    keys: Keys,
    typed: str,
    *,
    actor: str,
    now: dt.datetime | None = None,
    nonce: str | None = None,
    piece_id: int | None = None,
) -> CodeUse:
    """Count one use of a typed code (a booking, a dose, a redemption), in the caller's write
    transaction, with one ``code.used`` event (see :func:`courrier.ledger.codes.use_code_id`: guarded,
    idempotent with a ``nonce``). Refusals: ``code_revoked``, ``code_used_up``, ``code_expired``,
    ``code_not_yet_valid`` (and ``unknown_code``, or the format errors of a mistyped code)."""
    now = now or utcnow()
    found = lookup_code(connection, keys, typed, now.date())
    if found.valid_from is not None and now.date() < found.valid_from:
        raise CodeError(
            f"the code is valid from {found.valid_from}",
            code="code_not_yet_valid",
            valid_from=found.valid_from,
        )
    return use_code_id(connection, found.code_id, actor=actor, now=now, nonce=nonce, piece_id=piece_id)


def revoke_typed_code(
    connection: Connection,
    keys: Keys,
    typed: str,
    *,
    actor: str,
    reason: str,
    now: dt.datetime | None = None,
) -> CodeLookup:
    """Revoke the code a person or clerk typed (e.g. reported stolen), in the caller's write
    transaction; returns it as it is now."""
    now = now or utcnow()
    found = lookup_code(connection, keys, typed, now.date())
    if not revoke_code(connection, found.code_id, actor=actor, reason=reason, now=now):
        raise ConflictError("the code was already revoked", code="already_revoked")
    return lookup_code(connection, keys, typed, now.date())


def qr_content(
    campaign: Campaign,
    code: str,
    *,
    keys: Keys | None = None,
    code_id: int | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> str:
    """What a letter's QR code holds, the one definition: the composer's records print it and the
    services check what was printed against it.

    The campaign's ``[qr] content`` with ``{code}`` filled with the compact code or, for a signed
    campaign, ``{token}`` with a signed token (needs ``keys``, ``code_id`` and the validity; a code
    without an end, which no campaign issues today, is signed valid for ``valid_from`` only). In a URL
    the token is percent-encoded: base45 holds ``/``, ``%``, ``+`` and space
    (:func:`courrier.codes.token.token_in_qr` reads it back)."""
    if not campaign.qr_signed:
        return campaign.qr_content.replace("{code}", parse_code(code))
    if keys is None or code_id is None or valid_from is None:
        raise ValueError("a signed QR content needs the keys, the code id and its validity")
    token = sign_token(
        keys,
        campaign_id=campaign.id,
        code_id=code_id,
        valid_from=valid_from,
        valid_until=valid_until or valid_from,
    )
    return campaign.qr_content.replace("{token}", quote_token(campaign.qr_content, token))


def find_person(connection: Connection, reference: str) -> int:
    """A person by national id (13 digits) or register id (fewer digits)."""
    reference = reference.strip()
    if len(reference) == 13:
        condition = persons.c.national_id == reference
    elif reference.isdigit():
        condition = persons.c.id == int(reference)
    else:
        raise NotFoundError(
            f"{reference!r} is neither a register id nor a national id", code="unknown_person"
        )
    found = connection.execute(select(persons.c.id).where(condition)).scalar()
    if found is None:
        raise NotFoundError(f"no person {reference!r} in the register", code="unknown_person")
    return int(found)


def reissue_piece(
    connection: Connection,
    campaign_name: str,
    person: str,
    *,
    same_code: bool,
    keys: Keys,
    actor: str,
    reason: str | None = None,
    piece_id: int | None = None,
    now: dt.datetime | None = None,
    randbytes: RandomBytes = secrets.token_bytes,
) -> Reissue:
    """Send a person's letter again as a new piece, with the same code or a new one (which revokes the
    old), in the caller's write transaction with its events. The replaced piece (the person's latest,
    or ``piece_id``) ends as ``reissued``. Of two re-issues of one piece at once, one succeeds and the
    other is refused with ``piece_reissued``."""
    now = now or utcnow()
    campaign = get_campaign(connection, campaign_name)
    person_id = find_person(connection, person)
    if connection.execute(select(persons.c.deceased).where(persons.c.id == person_id)).scalar_one():
        raise ConflictError(f"person {person} is deceased in the register", code="person_deceased")
    of_person = select(pieces).where(pieces.c.campaign_id == campaign.id, pieces.c.person_id == person_id)
    if piece_id is not None:
        of_person = of_person.where(pieces.c.id == piece_id)
    old = connection.execute(of_person.order_by(pieces.c.reissue_number.desc()).limit(1)).one_or_none()
    if old is None:
        raise NotFoundError(f"person {person} has no piece in campaign {campaign.name}", code="no_piece")
    if old.state not in REISSUABLE:
        raise ConflictError(
            f"piece {old.id} is {old.state}: it cannot be re-issued",
            code=REISSUE_REFUSALS[old.state],
            piece_id=old.id,
        )
    if old.code_id is None:
        raise ConflictError(
            f"piece {old.id} has no code yet: `courrier codes issue {campaign.name}` first",
            code="no_code_yet",
        )
    code_row = connection.execute(select(codes).where(codes.c.id == old.code_id)).one()
    if same_code:
        status = effective_status(
            code_row.status, code_row.uses, code_row.max_uses, code_row.valid_until, now.date()
        )
        if status != "active":
            raise CodeError(
                f"the code is {status}: it cannot be sent again, use --new-code",
                code=REFUSALS[status],
            )
    new_piece_id = _insert_reissue_piece(connection, campaign, old, now)
    if not move_piece(
        connection,
        old.id,
        old.state,
        "reissued",
        campaign_id=campaign.id,
        code_id=old.code_id,
        actor=actor,
        at=now,
        reason=reason,
        details={"new_piece_id": new_piece_id, "same_code": same_code},
    ):
        raise _reissued_meanwhile(old.id)
    if same_code:
        code_id, code, revoked = old.code_id, reveal_code(keys, code_row.ciphertext), None
    else:
        revoke_code(
            connection,
            old.code_id,
            actor=actor,
            reason=f"replaced by a re-issue: {reason}" if reason else "replaced by a re-issue",
            now=now,
            piece_id=old.id,
        )
        code_id, code = _new_code(connection, campaign, person_id, new_piece_id, keys, now, randbytes)
        revoked = old.code_id
    connection.execute(pieces.update().where(pieces.c.id == new_piece_id).values(code_id=code_id))
    record_event(
        connection,
        "code.reissued" if same_code else "code.issued",
        actor,
        campaign_id=campaign.id,
        piece_id=new_piece_id,
        code_id=code_id,
        reason=reason,
        details={"reissue_of": old.id},
        at=now,
    )
    return Reissue(old.id, new_piece_id, code_id, format_code(code), same_code, revoked)


def _insert_reissue_piece(
    connection: Connection, campaign: Campaign, old: Row[tuple[object, ...]], now: dt.datetime
) -> int:
    number = connection.execute(
        select(func.max(pieces.c.reissue_number)).where(
            pieces.c.campaign_id == campaign.id, pieces.c.person_id == old.person_id
        )
    ).scalar_one()
    try:
        result = connection.execute(
            pieces.insert().values(
                campaign_id=campaign.id,
                wave_id=None,
                person_id=old.person_id,
                sequence=None,
                reissue_number=int(number) + 1,
                reissue_of=old.id,
                **NEW_PIECE,
                created_at=now,
                updated_at=now,
            )
        )
    except IntegrityError as error:
        # UNIQUE (campaign, person, re-issue number): another re-issue took this number first.
        raise _reissued_meanwhile(old.id) from error
    assert result.inserted_primary_key is not None
    return int(result.inserted_primary_key[0])


def _reissued_meanwhile(piece_id: int) -> ConflictError:
    return ConflictError(
        f"piece {piece_id} was re-issued meanwhile", code="piece_reissued", piece_id=piece_id
    )


def _new_code(
    connection: Connection,
    campaign: Campaign,
    person_id: int,
    piece_id: int,
    keys: Keys,
    now: dt.datetime,
    randbytes: RandomBytes,
) -> tuple[int, str]:
    valid_from, valid_until = code_validity(
        campaign, None, now.date(), f"campaign {campaign.name}: a new code"
    )
    for _attempt in range(10):
        (code,) = random_codes(1, randbytes)
        (digest,), (sealed,) = seal_codes(keys, [code])
        try:
            with connection.begin_nested():
                result = connection.execute(
                    codes.insert().values(
                        campaign_id=campaign.id,
                        person_id=person_id,
                        piece_id=piece_id,
                        hmac=digest,
                        ciphertext=sealed,
                        key_id=keys.encryption_key_id,
                        **NEW_CODE,
                        max_uses=campaign.max_uses,
                        valid_from=valid_from,
                        valid_until=valid_until,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            continue  # drawn a code that exists: draw again
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0]), code
    raise ConflictError("codes kept colliding: the random source is broken", code="code_collision")
