"""A typed code into a code holder, or a refusal saying why, in a few database reads.

Forgiveness: case, spaces and dashes do not matter, and characters the alphabet leaves out because they
look like ones it has (``0``/``O`` for ``D``/``Q``, ``1``/``I``/``L`` for ``J``/``T``/``7``...) are tried
as each look-alike; a candidate is taken only if its check character holds and exactly one exists.

Throttling: each failure counts against the client (``code-client``) and the typed code
(``code-typed``, keyed by its HMAC, so no code is stored); a blocked client or code gets ``throttled``
with the seconds to wait. Successes only read the counters. The real holder of a code is never locked
out by others: another client's guesses count against that client, and a block ends.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select

from courrier.accounts.throttle import (
    Limit,
    blocked_until_column,
    count_failure,
    first_blocked,
    throttle_params,
    wait_for,
)
from courrier.accounts.users import ThrottledError
from courrier.booking.policy import booking_policy
from courrier.codes.format import ALPHABET, CODE_LENGTH, GROUP, normalise, parse_code
from courrier.codes.keys import Keys
from courrier.codes.sealing import code_hmac
from courrier.db.schema import bookings, campaigns, codes, persons
from courrier.db.transaction import read_connection, write_transaction
from courrier.errors import CodeError, CourrierError, NotFoundError
from courrier.ledger.codes import REFUSALS, effective_status

CLIENT_LIMIT = Limit(failures=20, window_s=10 * 60, block_s=10 * 60)
TYPED_LIMIT = Limit(failures=5, window_s=10 * 60, block_s=10 * 60)
LOOK_ALIKES = {"0": "DQ", "O": "DQ", "1": "JT7", "I": "JT7", "L": "4"}
_MAX_LOOK_ALIKES = 3


@dataclass(frozen=True)
class CodeHolder:
    code_id: int
    campaign_id: int
    campaign: str
    person_id: int
    language: str
    commune: str
    max_uses: int
    valid_from: dt.date | None
    valid_until: dt.date | None
    # The code's validity is over, but its campaign lets dose 2 be booked after it and dose 1 is booked:
    # the session may book, move and cancel dose 2 and nothing new (the booking checks each action again).
    dose2_only: bool = False


def candidates(typed: str) -> list[str]:
    """Compact codes the person may have meant; raises the format error when none is well-formed."""
    compact = normalise(typed)
    slots = [i for i, character in enumerate(compact) if character in LOOK_ALIKES]
    if not slots or len(compact) != CODE_LENGTH or len(slots) > _MAX_LOOK_ALIKES:
        return [parse_code(compact)]
    found = []
    for choice in itertools.product(*(LOOK_ALIKES[compact[i]] for i in slots)):
        attempt = list(compact)
        for i, character in zip(slots, choice, strict=True):
            attempt[i] = character
        try:
            found.append(parse_code("".join(attempt)))
        except CodeError:
            continue
    if not found:
        return [parse_code(compact)]
    return found


def _wrong_group(connection: Connection, keys: Keys, compact: str) -> int | None:
    """The group (1-based) whose one-character fix gives an issued code, when exactly one does: the check
    character then says where the mistake is without saying what the code is."""
    groups: set[int] = set()
    for position in range(CODE_LENGTH):
        for character in ALPHABET:
            if character == compact[position]:
                continue
            attempt = compact[:position] + character + compact[position + 1 :]
            try:
                parse_code(attempt)
            except CodeError:
                continue
            if connection.execute(_ROW, {"digest": code_hmac(keys, attempt)}).first() is not None:
                groups.add(position // GROUP + 1)
            break  # one fix per position passes the check; no need to try the others
    return groups.pop() if len(groups) == 1 else None


# Built once: a statement SQLAlchemy has seen before costs only its cache lookup.
_ROW = (
    select(
        codes.c.id,
        codes.c.campaign_id,
        codes.c.person_id,
        codes.c.status,
        codes.c.uses,
        codes.c.max_uses,
        codes.c.valid_from,
        codes.c.valid_until,
        campaigns.c.name,
        persons.c.language,
        persons.c.commune,
    )
    .join(campaigns, campaigns.c.id == codes.c.campaign_id)
    .join(persons, persons.c.id == codes.c.person_id)
    .where(codes.c.hmac == bindparam("digest"))
)


# The code's row and how long its caller is blocked (the client or the typed code), in one read: a
# round trip fewer for every code entry of the opening rush. Without a row, the block is read alone.
_ROW_AND_BLOCK = _ROW.add_columns(blocked_until_column(2).label("blocked_until"))


def _row(connection: Connection, digest: bytes, throttle: _Throttle) -> Any:
    return connection.execute(_ROW_AND_BLOCK, {"digest": digest, **throttle.params}).one_or_none()


@dataclass(frozen=True)
class _Throttle:
    """Who is typing (the client, the typed code's key) as the throttle counts them, at ``now``."""

    pairs: tuple[tuple[str, str], ...]
    params: dict[str, object]
    now: dt.datetime

    def check(self, connection: Connection) -> None:
        """``throttled`` while the client or the typed code is blocked (a read of its own)."""
        self.raise_if(first_blocked(connection, self.pairs, self.now))

    def raise_if(self, wait: int | None) -> None:
        if wait is not None:
            raise ThrottledError("too many wrong codes: try again later", retry_after_s=wait)


def enter_code(engine: Engine, keys: Keys, typed: str, *, client: str, now: dt.datetime) -> CodeHolder:
    """The holder of a typed code, if it may book now. Refusals: the format errors of a mistyped code
    (``bad_check_character`` with ``group`` when the check character says which), ``unknown_code``,
    ``code_revoked``, ``code_expired``, ``code_used_up``, ``code_not_yet_valid``; ``throttled``.

    An expired code whose campaign lets dose 2 be booked after the code's validity (``booking.policy``)
    and whose dose 1 is booked opens a session for dose 2 only (``CodeHolder.dose2_only``); without a
    dose-1 booking, or when the campaign does not allow it, it is refused (``code_expired``).

    A success only reads; a failure is counted in its own write transaction before it is raised."""
    client = client[:64]
    typed_key = code_hmac(keys, normalise(typed)[:64] or "-").hex()[:32]
    pairs = (("code-client", client), ("code-typed", typed_key))
    throttle = _Throttle(pairs, throttle_params(pairs, now), now)
    with read_connection(engine) as connection:
        try:
            return _holder(connection, keys, typed, now, throttle)
        except ThrottledError:
            raise  # not a failure to count
        except CourrierError as error:
            refusal = error
    with write_transaction(engine) as writing:
        count_failure(writing, "code-client", client, CLIENT_LIMIT, now)
        count_failure(writing, "code-typed", typed_key, TYPED_LIMIT, now)
    raise refusal


def _holder(
    connection: Connection, keys: Keys, typed: str, now: dt.datetime, throttle: _Throttle
) -> CodeHolder:
    """The holder, refused ``throttled`` first (before any other refusal) while the caller is blocked."""
    try:
        options = candidates(typed)
    except CodeError as error:
        throttle.check(connection)
        if error.code == "bad_check_character":
            group = _wrong_group(connection, keys, normalise(typed))
            if group is not None:
                raise CodeError(
                    f"a character of group {group} is mistyped", code="bad_check_character", group=group
                ) from None
        raise
    found = (_row(connection, code_hmac(keys, code), throttle) for code in options)
    rows = [row for row in found if row is not None]
    if not rows:
        throttle.check(connection)
    else:
        throttle.raise_if(wait_for(rows[0].blocked_until, now))
    if len(rows) != 1:
        raise NotFoundError("no such code: it was never issued (or typed wrongly)", code="unknown_code")
    row = rows[0]
    today = now.date()
    status = effective_status(row.status, row.uses, row.max_uses, row.valid_until, today)
    dose2_only = status == "expired" and _dose2_after_expiry(connection, row.id, row.campaign_id, status)
    if status != "active" and not dose2_only:
        raise CodeError(f"the code is {status}", code=REFUSALS.get(status, CodeError.code))
    if row.valid_from is not None and today < row.valid_from:
        raise CodeError(f"the code is valid from {row.valid_from}", code="code_not_yet_valid")
    return CodeHolder(
        code_id=row.id,
        campaign_id=row.campaign_id,
        campaign=row.name,
        person_id=row.person_id,
        language=row.language,
        commune=row.commune,
        max_uses=row.max_uses,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        dose2_only=dose2_only,
    )


_DOSE1_BOOKED = select(bookings.c.id).where(
    bookings.c.code_id == bindparam("code_id"), bookings.c.active_dose == 1
)


def _dose2_after_expiry(connection: Connection, code_id: int, campaign_id: int, status: str) -> bool:
    """Whether a code past its validity may still book dose 2: its campaign allows it and dose 1 is booked
    (read only for such codes: an active code's entry costs no extra query)."""
    if not booking_policy(connection, campaign_id).may_book(status, 2):
        return False
    return connection.execute(_DOSE1_BOOKED, {"code_id": code_id}).first() is not None
