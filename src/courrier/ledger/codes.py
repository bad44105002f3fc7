"""Code uses and revocations: the only writers of ``codes.uses`` and ``codes.status``.

Statuses: ``active``, ``used_up`` (uses reached max_uses), ``expired`` (past valid_until; computed on
read, since extending a campaign brings a code back), ``revoked`` (final).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, case, or_, select

from courrier.db.prepared import Prepared
from courrier.db.schema import code_uses, codes
from courrier.db.transaction import InsertUnlessTaken
from courrier.errors import CodeError
from courrier.ledger.events import record_event

# The error code that refuses a use, by the code's status.
REFUSALS: Mapping[str, str] = {
    "used_up": "code_used_up",
    "revoked": "code_revoked",
    "expired": "code_expired",
}
# The columns of a code when it is issued.
NEW_CODE: Mapping[str, object] = {"status": "active", "uses": 0}


def effective_status(
    stored: str, uses: int, max_uses: int, valid_until: dt.date | None, today: dt.date
) -> str:
    if stored == "revoked":
        return "revoked"
    if stored == "used_up" or uses >= max_uses:
        return "used_up"
    if valid_until is not None and today > valid_until:
        return "expired"
    return "active"


@dataclass(frozen=True)
class CodeUse:
    """One counted use of a code: what a use returns, and returns again to a retry with its nonce."""

    code_id: int
    campaign_id: int
    use_number: int
    max_uses: int
    nonce: str | None
    used_at: dt.datetime

    @property
    def status(self) -> str:
        """The code's status right after this use."""
        return "used_up" if self.use_number >= self.max_uses else "active"


def use_code_id(
    connection: Connection,
    code_id: int,
    *,
    actor: str,
    now: dt.datetime,
    nonce: str | None = None,
    piece_id: int | None = None,
    fresh_nonce: bool = False,
) -> CodeUse:
    """Count one use of a code if it is usable now, with a ``code.used`` event.

    The check and the write are one guarded UPDATE whose rowcount is checked, so of simultaneous uses
    of a one-use code exactly one succeeds; the others re-read the code and are told why
    (``code_used_up``, ``code_revoked``, ``code_expired``). ``code_uses`` backs it with one row per use
    number. A ``nonce`` makes the use idempotent: the same nonce again is the same use, answered as the
    first time, even when both calls run at once. ``fresh_nonce``: the caller has just looked its own
    record of this nonce up in this transaction and found none (a redemption's), so the lookup before
    the UPDATE is skipped; a twin that committed since is still found after the guarded UPDATE, or when
    the use's row finds its nonce taken.
    """
    if (
        nonce is not None
        and not fresh_nonce
        and (first := _use_by_nonce(connection, code_id, nonce)) is not None
    ):
        return first
    row = _TAKE.first_row(connection, {"code": code_id, "today": now.date(), "now": now})
    if row is not None:
        values = _use_values(code_id, int(row[_TAKEN_USES]), nonce, piece_id, actor, now)
        if _INSERT_USE_UNLESS_COUNTED(connection, values) is not None:
            return _recorded(connection, row, values)
        # Its twin with the same nonce counted a use and committed while we waited for the code's row
        # (a code of several uses): ours is taken back, exactly (the row is ours since the UPDATE, and
        # the guard had it active), and the twin's use is the answer. No savepoint: two statements of
        # every use saved for this rare path's one.
        connection.execute(_GIVE_BACK, {"code": code_id})
        first = _use_by_nonce(connection, code_id, nonce) if nonce is not None else None
        assert first is not None, "a use's row conflicts only on its code and nonce"
        return first
    if nonce is not None and (first := _use_by_nonce(connection, code_id, nonce)) is not None:
        return first  # its twin won the last use while we waited for the row
    row = connection.execute(
        select(codes.c.status, codes.c.uses, codes.c.max_uses, codes.c.valid_until).where(
            codes.c.id == code_id
        )
    ).one()
    status = effective_status(row.status, row.uses, row.max_uses, row.valid_until, now.date())
    raise CodeError(f"the code is {status}", code=REFUSALS.get(status, CodeError.code))


# The guard: built once and sent straight to the driver (db.prepared), as check-in's guarded UPDATE is (a
# voucher's redemption counts a use, and SQLAlchemy's execution of it cost more than SQLite's own work).
# What it returns is integers only (no result processing): uses, campaign_id, max_uses.
_TAKE = Prepared(
    codes.update()
    .where(
        codes.c.id == bindparam("code"),
        codes.c.status == "active",
        codes.c.uses < codes.c.max_uses,
        or_(codes.c.valid_until.is_(None), codes.c.valid_until >= bindparam("today")),
    )
    .values(
        uses=codes.c.uses + 1,
        status=case((codes.c.uses + 1 >= codes.c.max_uses, "used_up"), else_=codes.c.status),
        updated_at=bindparam("now"),
    )
    # Our own update holds the row until commit: what it returns is the use just counted.
    .returning(codes.c.uses, codes.c.campaign_id, codes.c.max_uses)
)
_TAKEN_USES, _TAKEN_CAMPAIGN, _TAKEN_MAX_USES = range(3)
_INSERT_USE = code_uses.insert()
_INSERT_USE_UNLESS_COUNTED = InsertUnlessTaken(code_uses, conflict=("code_id", "nonce"))
# The UPDATE of _TAKE undone in the same transaction (the guard had the code active).
_GIVE_BACK = (
    codes.update().where(codes.c.id == bindparam("code")).values(uses=codes.c.uses - 1, status="active")
)


def take_code_use(
    connection: Connection,
    code_id: int,
    *,
    actor: str,
    now: dt.datetime,
    nonce: str | None = None,
    piece_id: int | None = None,
) -> CodeUse | None:
    """The guarded UPDATE of :func:`use_code_id` and its ``code_uses`` row and ``code.used`` event, and
    nothing else: ``None`` when the code may not be used now (nothing written). No lookup of ``nonce``
    first and no savepoint: a use already counted with it is an ``IntegrityError`` that ends the
    caller's transaction (the caller then asks :func:`use_code_id` in a new one, which answers it)."""
    row = _TAKE.first_row(connection, {"code": code_id, "today": now.date(), "now": now})
    if row is None:
        return None
    values = _use_values(code_id, int(row[_TAKEN_USES]), nonce, piece_id, actor, now)
    connection.execute(_INSERT_USE, values)
    return _recorded(connection, row, values)


def _use_values(
    code_id: int, use_number: int, nonce: str | None, piece_id: int | None, actor: str, now: dt.datetime
) -> dict[str, Any]:
    return {
        "code_id": code_id,
        "use_number": use_number,
        "nonce": nonce,
        "piece_id": piece_id,
        "actor": actor,
        "used_at": now,
    }


def _recorded(connection: Connection, row: tuple[Any, ...], values: dict[str, Any]) -> CodeUse:
    """The ``code.used`` event of the use just counted (``row``: what ``_TAKE`` returned)."""
    code_id, use_number, nonce = values["code_id"], values["use_number"], values["nonce"]
    now = values["used_at"]
    campaign_id, max_uses = int(row[_TAKEN_CAMPAIGN]), int(row[_TAKEN_MAX_USES])
    record_event(
        connection,
        "code.used",
        values["actor"],
        campaign_id=campaign_id,
        piece_id=values["piece_id"],
        code_id=code_id,
        details={"use": use_number, "max_uses": max_uses, "nonce": nonce},
        at=now,
    )
    return CodeUse(code_id, campaign_id, use_number, max_uses, nonce, now)


_USES = select(
    code_uses.c.code_id,
    codes.c.campaign_id,
    code_uses.c.use_number,
    codes.c.max_uses,
    code_uses.c.nonce,
    code_uses.c.used_at,
).join(codes, codes.c.id == code_uses.c.code_id)
_USE_BY_NONCE = _USES.where(code_uses.c.code_id == bindparam("code"), code_uses.c.nonce == bindparam("nonce"))


def _use_by_nonce(connection: Connection, code_id: int, nonce: str) -> CodeUse | None:
    row = connection.execute(_USE_BY_NONCE, {"code": code_id, "nonce": nonce}).one_or_none()
    return None if row is None else _as_use(row)


def _as_use(row: Any) -> CodeUse:
    return CodeUse(row.code_id, row.campaign_id, row.use_number, row.max_uses, row.nonce, row.used_at)


def revoke_code(
    connection: Connection,
    code_id: int,
    *,
    actor: str,
    reason: str | None,
    now: dt.datetime,
    piece_id: int | None = None,
) -> bool:
    """Revoke a code for good (False if it already was), with a ``code.revoked`` event."""
    row = connection.execute(select(codes.c.campaign_id, codes.c.status).where(codes.c.id == code_id)).one()
    if row.status == "revoked":
        return False
    connection.execute(codes.update().where(codes.c.id == code_id).values(status="revoked", updated_at=now))
    record_event(
        connection,
        "code.revoked",
        actor,
        campaign_id=row.campaign_id,
        piece_id=piece_id,
        code_id=code_id,
        reason=reason,
        at=now,
    )
    return True


def return_use(
    connection: Connection, code_id: int, nonce: str, *, actor: str, reason: str, now: dt.datetime
) -> bool:
    """Give back the use counted with ``nonce`` (a voucher redemption undone for a mistaken scan), with
    a ``code.use_returned`` event: the code is usable again unless it was revoked meanwhile. False when
    no use was counted with that nonce (given back already)."""
    returned = connection.execute(
        code_uses.delete()
        .where(code_uses.c.code_id == code_id, code_uses.c.nonce == nonce)
        .returning(code_uses.c.use_number)
    ).scalar_one_or_none()
    if returned is None:
        return False
    counted = connection.execute(
        codes.update()
        .where(codes.c.id == code_id, codes.c.uses > 0)
        .values(
            uses=codes.c.uses - 1,
            status=case((codes.c.status == "used_up", "active"), else_=codes.c.status),
            updated_at=now,
        )
        .returning(codes.c.uses + 1, codes.c.campaign_id)
    ).one_or_none()
    if counted is None:  # a use's row with the code's count at 0: nothing left to number
        campaign_id = connection.execute(
            select(codes.c.campaign_id).where(codes.c.id == code_id)
        ).scalar_one()
        last = returned
    else:
        last, campaign_id = counted
    # The next use is numbered from the count (``uses + 1``), and use numbers are UNIQUE per code: a use
    # given back from the middle leaves its number free and the last one would be taken twice. The last
    # use takes the freed number, so the numbers stay 1..uses (its own event keeps the number it had).
    if returned < last:
        connection.execute(
            code_uses.update()
            .where(code_uses.c.code_id == code_id, code_uses.c.use_number == last)
            .values(use_number=returned)
        )
    record_event(
        connection,
        "code.use_returned",
        actor,
        campaign_id=campaign_id,
        code_id=code_id,
        reason=reason,
        details={"nonce": nonce},
        at=now,
    )
    return True
