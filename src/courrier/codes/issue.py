"""Issuing personal codes for the pieces of a campaign's waves, fast and resumable.

Pieces are taken in id order, ``chunk_size`` at a time; each chunk is one transaction that inserts the
codes (HMAC + ciphertext, never the code itself), points the pieces at them and appends one
``code.issued`` event for the chunk. A crash loses at most the chunk in flight; running the command
again skips every piece that already has a code, so nobody gets two.

Codes are unique across all campaigns through the UNIQUE ``codes.hmac`` column. A draw that collides
with a code already issued (about one in 2**64 per pair, so in practice never; tests force it with an
injected random source) makes the chunk's insert fail; the chunk is rolled back, the colliding codes are
drawn again, and the chunk is retried.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from courrier.campaigns.store import Campaign, get_campaign
from courrier.campaigns.validity import require_valid_period
from courrier.codes.format import RandomBytes, random_codes
from courrier.codes.keys import Keys
from courrier.codes.sealing import seal_codes
from courrier.db import write_transaction
from courrier.db.bulk import bulk_insert, select_where_in
from courrier.db.schema import codes, pieces, waves
from courrier.db.types import utcnow
from courrier.errors import ConflictError, NotFoundError
from courrier.ledger.codes import NEW_CODE
from courrier.ledger.events import record_event
from courrier.result import Result

DEFAULT_CHUNK = 10_000
# Draws again before giving up on a chunk: only a broken random source collides this often.
_MAX_ATTEMPTS = 10
# Pieces still to be sent: planned, or failed to compose (a failed letter is composed again once its
# cause is fixed, and a missing code must not keep it failed for good).
_WANTS_CODE = ("planned", "failed")


@dataclass
class IssueReport(Result):
    campaign: str
    issued: int = 0
    skipped: int = 0
    redrawn: int = 0
    waves: list[int] = field(default_factory=list)


def code_validity(
    campaign: Campaign, send_date: dt.date | None, today: dt.date, what: str = "the code"
) -> tuple[dt.date, dt.date]:
    """``(valid_from, valid_until)`` of a code for a letter sent on ``send_date`` (today if unknown);
    refused when the code would be expired or not valid on the day its letter is sent."""
    return require_valid_period(
        campaign.name, campaign.validity_days, campaign.valid_until, send_date, today, what
    )


def issue_codes(
    engine: Engine,
    campaign_name: str,
    *,
    keys: Keys,
    actor: str,
    wave: int | None = None,
    now: dt.datetime | None = None,
    randbytes: RandomBytes = secrets.token_bytes,
    chunk_size: int = DEFAULT_CHUNK,
    on_progress: Callable[[int], None] | None = None,
) -> IssueReport:
    """Give every planned piece of wave ``wave`` (default: every wave) that has no code yet a new code.

    ``on_progress`` is called after each committed chunk with the number of codes issued so far.
    """
    now = now or utcnow()
    with engine.connect() as connection:
        campaign = get_campaign(connection, campaign_name)
        if campaign.kind == "certificate":
            # Its letters carry each person's signed certificate: a code would be a second, unused key
            # to a letter nobody books with.
            raise ConflictError(
                f"campaign {campaign.name} is of kind certificate: its letters carry certificates, not"
                f" codes; compose its waves with `courrier compose {campaign.name} --wave N`",
                code="no_codes_for_kind",
                kind=campaign.kind,
            )
        targets = _waves(connection, campaign, wave)
    report = IssueReport(campaign=campaign.name)
    for wave_id, number, send_date in targets:
        with engine.connect() as connection:
            report.skipped += connection.execute(
                select(func.count())
                .select_from(pieces)
                .where(pieces.c.wave_id == wave_id, pieces.c.code_id.is_not(None))
            ).scalar_one()
        # Keyset pages of pieces: memory stays flat however large the wave.
        after_id = 0
        while True:
            with engine.connect() as connection:
                chunk = _pieces_without_code(connection, wave_id, after_id, chunk_size)
            if not chunk:
                break
            if after_id == 0:  # checked only for a wave with codes to issue: done waves stay done
                valid_from, valid_until = code_validity(
                    campaign, send_date, now.date(), f"campaign {campaign.name} wave {number}"
                )
            after_id = chunk[-1][0]
            issued, redrawn = _issue_chunk(
                engine,
                campaign,
                chunk,
                keys,
                actor,
                now,
                randbytes,
                (wave_id, number),
                valid_from,
                valid_until,
            )
            report.issued += issued
            report.skipped += len(chunk) - issued
            report.redrawn += redrawn
            if on_progress is not None:
                on_progress(report.issued)
        report.waves.append(number)
    return report


def _waves(
    connection: Connection, campaign: Campaign, number: int | None
) -> list[tuple[int, int, dt.date | None]]:
    query = select(waves.c.id, waves.c.number, waves.c.send_date).where(waves.c.campaign_id == campaign.id)
    if number is not None:
        query = query.where(waves.c.number == number)
    found = [
        (row.id, row.number, row.send_date) for row in connection.execute(query.order_by(waves.c.number))
    ]
    if number is not None and not found:
        raise NotFoundError(f"campaign {campaign.name} has no wave {number}", code="unknown_wave")
    if not found:
        raise ConflictError(
            f"campaign {campaign.name} has no waves yet: run `courrier campaign plan {campaign.name}`",
            code="not_planned",
        )
    return found


def _pieces_without_code(
    connection: Connection, wave_id: int, after_id: int, limit: int
) -> list[tuple[int, int]]:
    rows = connection.execute(
        select(pieces.c.id, pieces.c.person_id)
        .where(
            pieces.c.wave_id == wave_id,
            pieces.c.id > after_id,
            pieces.c.code_id.is_(None),
            pieces.c.state.in_(_WANTS_CODE),
        )
        .order_by(pieces.c.id)
        .limit(limit)
    )
    return [(row.id, row.person_id) for row in rows]


def _issue_chunk(
    engine: Engine,
    campaign: Campaign,
    chunk: list[tuple[int, int]],
    keys: Keys,
    actor: str,
    now: dt.datetime,
    randbytes: RandomBytes,
    wave: tuple[int, int],
    valid_from: dt.date,
    valid_until: dt.date,
) -> tuple[int, int]:
    """Issue one chunk in one transaction; returns (codes issued, codes drawn again)."""
    wave_id, wave_number = wave
    drawn = random_codes(len(chunk), randbytes)
    redrawn = 0
    # Pieces another run issued since we listed them; only looked up after a failed insert, which is
    # where a concurrent run shows (UNIQUE codes.piece_id).
    taken: set[int] = set()
    for _attempt in range(_MAX_ATTEMPTS):
        hmacs, ciphertexts = seal_codes(keys, drawn)
        rows = [
            {"piece_id": piece_id, "person_id": person_id, "hmac": digest, "ciphertext": sealed}
            for (piece_id, person_id), digest, sealed in zip(chunk, hmacs, ciphertexts, strict=True)
            if piece_id not in taken
        ]
        try:
            with write_transaction(engine) as connection:
                bulk_insert(
                    connection,
                    codes,
                    rows,
                    constants={
                        "campaign_id": campaign.id,
                        "key_id": keys.encryption_key_id,
                        **NEW_CODE,
                        "max_uses": campaign.max_uses,
                        "valid_from": valid_from,
                        "valid_until": valid_until,
                        "created_at": now,
                        "updated_at": now,
                    },
                )
                _point_pieces_at_codes(connection, wave_id, chunk[0][0], chunk[-1][0], now)
                if rows:
                    record_event(
                        connection,
                        "code.issued",
                        actor,
                        campaign_id=campaign.id,
                        details={
                            "wave": wave_number,
                            "count": len(rows),
                            "first_piece_id": rows[0]["piece_id"],
                            "last_piece_id": rows[-1]["piece_id"],
                        },
                        at=now,
                    )
                return len(rows), redrawn
        except IntegrityError:
            with engine.connect() as connection:
                now_taken = _pieces_with_code(connection, [piece_id for piece_id, _ in chunk])
                inserted_hmacs = [
                    digest
                    for (piece_id, _), digest in zip(chunk, hmacs, strict=True)
                    if piece_id not in taken
                ]
                colliding = _colliding(connection, inserted_hmacs)
            if not colliding and now_taken <= taken:
                raise
            # Indexes into ``rows`` back to indexes into ``chunk`` and ``drawn``: same order, without the
            # pieces that were taken when ``rows`` was built.
            positions = [index for index, (piece_id, _) in enumerate(chunk) if piece_id not in taken]
            colliding_positions = sorted(
                positions[index] for index in colliding if chunk[positions[index]][0] not in now_taken
            )
            taken |= now_taken
            fresh = random_codes(len(colliding_positions), randbytes)
            for index, code in zip(colliding_positions, fresh, strict=True):
                drawn[index] = code
            redrawn += len(colliding_positions)
    raise ConflictError(
        f"codes kept colliding after {_MAX_ATTEMPTS} draws: the random source is broken",
        code="code_collision",
    )


def _pieces_with_code(connection: Connection, piece_ids: list[int]) -> set[int]:
    found = select_where_in(connection, [codes.c.piece_id], codes.c.piece_id, piece_ids)
    return {int(piece_id) for (piece_id,) in found}


def _colliding(connection: Connection, hmacs: list[bytes]) -> set[int]:
    """Indexes of ``hmacs`` already in the database or repeated within the chunk (after the first)."""
    existing = {
        bytes(digest) for (digest,) in select_where_in(connection, [codes.c.hmac], codes.c.hmac, hmacs)
    }
    seen: set[bytes] = set()
    colliding = set()
    for index, digest in enumerate(hmacs):
        if digest in existing or digest in seen:
            colliding.add(index)
        seen.add(digest)
    return colliding


def _point_pieces_at_codes(
    connection: Connection, wave_id: int, first_id: int, last_id: int, now: dt.datetime
) -> None:
    code_of_piece = select(codes.c.id).where(codes.c.piece_id == pieces.c.id).scalar_subquery()
    connection.execute(
        pieces.update()
        .where(
            pieces.c.wave_id == wave_id,
            pieces.c.id.between(first_id, last_id),
            pieces.c.code_id.is_(None),
            pieces.c.state.in_(_WANTS_CODE),
        )
        .values(code_id=code_of_piece, updated_at=now)
    )
