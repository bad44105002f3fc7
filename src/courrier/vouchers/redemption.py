"""Redeeming a voucher at an establishment: one idempotent transaction keyed by a nonce.

The voucher's one use is taken by the ledger's guarded update of ``codes.uses`` (``uses + 1 where uses <
max_uses``, ``ledger.codes.use_code_id``), whose rowcount is checked, in the request's write
transaction: of two establishments scanning one voucher at once, one redeems it and the other is told
``already_redeemed`` (when, never where). UNIQUE ``redemptions.live_code_id`` backs it; UNIQUE
``redemptions.nonce`` makes a retried scan (a double tap, a request sent again) the same redemption, with
the first answer. A refusal writes nothing.

What a desk reads (:func:`read_voucher`): the voucher's QR (a signed token, alone or in a URL, whose
signature is verified here: a changed byte is ``voucher_forged``; or the campaign's QR text holding the
code) or the typed personal code (dashes, case and look-alike characters forgiven). The voucher's status
is the database's, not the token's dates: a campaign's validity extension counts at once.

Refusals (``Answer.refusal.code``): ``already_redeemed`` (``at``, ``date``, ``time``),
``voucher_expired`` (``valid_until``), ``voucher_revoked``, ``voucher_not_yet_valid`` (``valid_from``),
``voucher_forged``, ``unknown_voucher`` (never issued, or not a voucher campaign's code), ``bad_token``
and a typed code's format errors.

An undo (:func:`undo_redemption`), by the establishment that redeemed, within the configured minutes,
marks the row undone (never deleted), clears ``live_code_id`` and gives the use back
(``ledger.codes.return_use``): the voucher can be redeemed again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, select

from courrier.booking.code_entry import candidates
from courrier.codes.format import CODE_LENGTH, normalise
from courrier.codes.keys import Keys
from courrier.codes.sealing import code_hmac
from courrier.codes.token import token_in_qr, verify_own_token
from courrier.db.schema import campaigns, codes, establishments, persons, redemptions
from courrier.db.transaction import InsertUnlessTaken
from courrier.errors import AccountError, CodeError, ConflictError, CourrierError, NotFoundError
from courrier.ledger.codes import effective_status, return_use, use_code_id
from courrier.ledger.events import record_event
from courrier.result import Result

MAX_NONCE = 64
MAX_REFERENCE = 64
# A stay longer than this is a typing mistake in a date, not a holiday a EUR 50 voucher pays for.
MAX_STAY_DAYS = 60
# verify_token wants a day even when the dates are not judged (the database's validity is).
_ANY_DAY = dt.date(2000, 1, 1)
# The establishments' clock: "redeemed on ... at ..." is said in the country's local time.
LOCAL = ZoneInfo("Europe/Luxembourg")
_FORGED = frozenset({"bad_signature", "unknown_key", "unsupported_version"})

_VOUCHER = (
    select(
        codes.c.id,
        codes.c.campaign_id,
        codes.c.status,
        codes.c.uses,
        codes.c.max_uses,
        codes.c.valid_from,
        codes.c.valid_until,
        persons.c.given_names,
        persons.c.family_name,
    )
    .join(campaigns, campaigns.c.id == codes.c.campaign_id)
    .join(persons, persons.c.id == codes.c.person_id)
    .where(campaigns.c.kind == "voucher")
)
_BY_HMAC = _VOUCHER.where(codes.c.hmac.in_(bindparam("digests", expanding=True)))
_BY_TOKEN = _VOUCHER.where(codes.c.id == bindparam("code_id"), codes.c.campaign_id == bindparam("campaign"))
_BY_NONCE = select(redemptions).where(redemptions.c.nonce == bindparam("nonce"))
_LIVE = select(redemptions.c.redeemed_at).where(redemptions.c.live_code_id == bindparam("code_id"))
_STATUS = select(establishments.c.status).where(establishments.c.id == bindparam("establishment"))
# A redemption's first read: whether its nonce was redeemed already, and the establishment's status, in
# one statement (a round trip fewer on PostgreSQL).
_FIRST = select(redemptions.c.id).where(redemptions.c.nonce == bindparam("nonce"))
_OPENING = select(_FIRST.scalar_subquery().label("first"), _STATUS.scalar_subquery().label("status"))
# The voucher's read with the opening's two answers in its columns: a redemption's reads in one statement
# (SQLAlchemy's execution of a statement cost more than SQLite's own work, and it is a round trip on
# PostgreSQL). A scan that names no voucher gets no row: the opening is then read alone.
_OPENING_COLUMNS = (
    _FIRST.scalar_subquery().label("opening_first"),
    _STATUS.scalar_subquery().label("opening_status"),
)
_OPENING_BY_HMAC = _BY_HMAC.add_columns(*_OPENING_COLUMNS)
_OPENING_BY_TOKEN = _BY_TOKEN.add_columns(*_OPENING_COLUMNS)
# A twin's nonce (UNIQUE nonce) or the voucher's standing redemption (UNIQUE live_code_id): no row, and
# the transaction goes on to say so.
_INSERT = InsertUnlessTaken(redemptions)


@dataclass(frozen=True)
class Voucher(Result):
    """A voucher as the desk sees it: the name to compare with the guest's ID, and its validity."""

    code_id: int
    campaign_id: int
    name: str
    valid_from: dt.date | None
    valid_until: dt.date | None

    def to_json(self) -> dict[str, Any]:
        # Spelled out, as Redemption's (every redemption answers with both; the generic to_json cost a
        # redemption a twentieth of its CPU); the ids stay in the library.
        return {
            "name": self.name,
            "valid_from": None if self.valid_from is None else self.valid_from.isoformat(),
            "valid_until": None if self.valid_until is None else self.valid_until.isoformat(),
        }


@dataclass(frozen=True)
class Redemption(Result):
    id: int
    nonce: str
    establishment: str
    amount_cents: int
    stay_from: dt.date
    stay_to: dt.date
    reference: str
    redeemed_by: str
    redeemed_at: dt.datetime
    undone_at: dt.datetime | None
    undone_by: str | None

    @property
    def amount(self) -> str:
        """The amount in euros as text (``50.00``): cents are exact, a float is not."""
        return f"{self.amount_cents // 100}.{self.amount_cents % 100:02d}"

    def to_json(self) -> dict[str, Any]:
        # tests/vouchers/test_answer_json.py holds this to the generic shape (result.py) and "amount".
        return {
            "id": self.id,
            "nonce": self.nonce,
            "establishment": self.establishment,
            "amount_cents": self.amount_cents,
            "stay_from": self.stay_from.isoformat(),
            "stay_to": self.stay_to.isoformat(),
            "reference": self.reference,
            "redeemed_by": self.redeemed_by,
            "redeemed_at": self.redeemed_at.isoformat(),
            "undone_at": None if self.undone_at is None else self.undone_at.isoformat(),
            "undone_by": self.undone_by,
            "amount": self.amount,
        }


@dataclass(frozen=True)
class Answer(Result):
    """``ok`` (``redemption``, ``voucher``), ``ready`` (a preview: the voucher, nothing written) or
    ``refused`` (``refusal``, and the voucher when it was read)."""

    status: str
    redemption: Redemption | None = None
    voucher: Voucher | None = None
    refusal: CourrierError | None = None
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"status": self.status}
        if self.redemption is not None:
            found.update(self.redemption.to_json())
        found["voucher"] = None if self.voucher is None else self.voucher.to_json()
        if self.refusal is not None:
            found["reason"] = self.refusal.to_json()
        return found


@dataclass(frozen=True)
class Stay:
    """What the establishment says about the stay: its dates and its own booking reference."""

    stay_from: dt.date
    stay_to: dt.date
    reference: str


def check_stay(stay: Stay) -> Stay:
    """The stay with its reference trimmed; ``bad_stay`` (with ``field``) otherwise."""
    reference = " ".join(stay.reference.split())
    if not reference or len(reference) > MAX_REFERENCE:
        raise ConflictError(
            f"the booking reference is 1 to {MAX_REFERENCE} characters", code="bad_stay", field="reference"
        )
    nights = (stay.stay_to - stay.stay_from).days
    if not 0 <= nights <= MAX_STAY_DAYS:
        raise ConflictError(
            f"the stay ends before it starts or lasts more than {MAX_STAY_DAYS} days",
            code="bad_stay",
            field="stay_to",
        )
    return Stay(stay.stay_from, stay.stay_to, reference)


def read_voucher(connection: Connection, keys: Keys, text: str, *, scanned: bool) -> Any:
    """The voucher row a scanned QR or a typed code names; its refusal (a :class:`CourrierError`)."""
    return _found(connection.execute(*_lookup(keys, text, scanned=scanned)))


def _lookup(keys: Keys, text: str, *, scanned: bool, opening: bool = False) -> tuple[Any, dict[str, Any]]:
    """The statement that reads the voucher ``text`` names, and its parameters, once the text is read
    (a token's signature verified): a refusal (``voucher_forged``, ``bad_token``) reads nothing.
    ``opening``: the statement that also answers :data:`_OPENING` (given ``nonce`` and ``establishment``)."""
    inner = token_in_qr(text.strip()) if scanned else text
    if not scanned or len(normalise(inner)) == CODE_LENGTH:
        digests = [code_hmac(keys, code) for code in candidates(inner)]
        return (_OPENING_BY_HMAC if opening else _BY_HMAC), {"digests": digests}
    try:
        claims = verify_own_token(inner, keys, _ANY_DAY, check_dates=False)
    except CodeError as error:
        if error.code in _FORGED:
            raise CodeError(f"not a genuine voucher: {error}", code="voucher_forged") from None
        raise
    return (_OPENING_BY_TOKEN if opening else _BY_TOKEN), {
        "code_id": claims.code_id,
        "campaign": claims.campaign_id,
    }


def _found(rows: Any) -> Any:
    """The one voucher row read by :func:`_lookup`'s statement: ``unknown_voucher`` for none (or for a
    typed code that two vouchers' could be)."""
    found = list(rows)
    if len(found) != 1:
        raise NotFoundError("no such voucher: it was never issued", code="unknown_voucher")
    return found[0]


def _voucher(row: Any) -> Voucher:
    return Voucher(
        row.id, row.campaign_id, f"{row.given_names} {row.family_name}", row.valid_from, row.valid_until
    )


def _already(connection: Connection, code_id: int) -> ConflictError:
    """``already_redeemed`` saying when (never where: the establishment is another's business)."""
    at = connection.execute(_LIVE, {"code_id": code_id}).scalar()
    local = at.astimezone(LOCAL) if at else None
    facts = (
        {"at": at.isoformat(), "date": local.date().isoformat(), "time": local.strftime("%H:%M")}
        if at and local
        else {}
    )
    return ConflictError("the voucher was redeemed already", code="already_redeemed", **facts)


def _judge(connection: Connection, row: Any, today: dt.date) -> None:
    status = effective_status(row.status, row.uses, row.max_uses, row.valid_until, today)
    if status == "revoked":
        raise CodeError("the voucher is revoked", code="voucher_revoked")
    if status == "used_up":
        raise _already(connection, row.id)
    if row.valid_from is not None and today < row.valid_from:
        raise CodeError(
            f"the voucher is valid from {row.valid_from}",
            code="voucher_not_yet_valid",
            valid_from=row.valid_from,
        )
    if status == "expired":
        raise CodeError(
            f"the voucher expired on {row.valid_until}", code="voucher_expired", valid_until=row.valid_until
        )


def _redemption(row: Any) -> Redemption:
    return Redemption(
        id=row.id,
        nonce=row.nonce,
        establishment=row.establishment_id,
        amount_cents=row.amount_cents,
        stay_from=row.stay_from,
        stay_to=row.stay_to,
        reference=row.reference,
        redeemed_by=row.redeemed_by,
        redeemed_at=row.redeemed_at,
        undone_at=row.undone_at,
        undone_by=row.undone_by,
    )


def require_approved(connection: Connection, establishment_id: str) -> None:
    """``establishment_not_approved`` for a pending (or unknown) establishment: it may not redeem yet."""
    _approved(connection.execute(_STATUS, {"establishment": establishment_id}).scalar(), establishment_id)


def _approved(status: str | None, establishment_id: str) -> None:
    if status != "approved":
        raise AccountError(
            f"establishment {establishment_id} is not approved", code="establishment_not_approved"
        )


@dataclass(frozen=True)
class Scan:
    """One scan or typed code at an establishment's desk: ``text`` is a QR's content when ``scanned``."""

    text: str
    scanned: bool
    nonce: str
    by: str


def preview_voucher(
    connection: Connection, keys: Keys, scan: Scan, *, establishment_id: str, now: dt.datetime
) -> Answer:
    """Whether the voucher is genuine and may be redeemed now, and the name on it (``ready``), or why
    not; writes nothing."""
    require_approved(connection, establishment_id)
    try:
        row = read_voucher(connection, keys, scan.text, scanned=scan.scanned)
    except CourrierError as error:
        return Answer("refused", refusal=error)
    try:
        _judge(connection, row, now.date())
    except CourrierError as error:
        return Answer("refused", voucher=_voucher(row), refusal=error)
    return Answer("ready", voucher=_voucher(row))


def redeem_voucher(
    connection: Connection,
    keys: Keys,
    scan: Scan,
    stay: Stay,
    *,
    establishment_id: str,
    amount_cents: int,
    now: dt.datetime,
    guarded: bool = True,
) -> Answer:
    """Redeem the voucher ``scan`` names at ``establishment_id`` for ``amount_cents``, inside the
    caller's write transaction. ``guarded`` False is the race tests' control only: it trusts a preview
    read before this transaction ("not redeemed yet") and writes without the guard."""
    nonce = scan.nonce[:MAX_NONCE]
    known = {"nonce": nonce, "establishment": establishment_id}
    # The scan is read first (no database work; the signature's check) so that one statement reads the
    # opening and the voucher; the refusals keep their order: a replayed nonce, an establishment not
    # approved, a bad stay, then the scan's.
    refusal: Exception | None = None
    rows: list[Any] = []
    try:
        statement, parameters = _lookup(keys, scan.text, scanned=scan.scanned, opening=True)
    except Exception as error:  # raised below, where the scan was read before, whatever it is
        refusal = error
    else:
        rows = list(connection.execute(statement, {**parameters, **known}))
    first, status = (
        (rows[0].opening_first, rows[0].opening_status) if rows else connection.execute(_OPENING, known).one()
    )
    if first is not None:
        return _replay(connection, connection.execute(_BY_NONCE, {"nonce": nonce}).one(), establishment_id)
    _approved(status, establishment_id)
    stay = check_stay(stay)
    try:
        if refusal is not None:
            raise refusal
        row = _found(rows)
    except CourrierError as error:
        return Answer("refused", refusal=error)
    voucher = _voucher(row)
    try:
        if guarded:
            _judge(connection, row, now.date())
            _take(connection, row.id, establishment_id, now, nonce)
    except CourrierError as error:
        return _twin_or(
            connection, nonce, establishment_id, Answer("refused", voucher=voucher, refusal=error)
        )
    values = {
        "nonce": nonce,
        "code_id": row.id,
        "campaign_id": row.campaign_id,
        "establishment_id": establishment_id,
        "amount_cents": amount_cents,
        "stay_from": stay.stay_from,
        "stay_to": stay.stay_to,
        "reference": stay.reference,
        "redeemed_by": scan.by[:64],
        "redeemed_at": now,
        "undone_at": None,
        "undone_by": None,
        "live_code_id": row.id if guarded else None,
    }
    redemption_id = _INSERT(connection, values)
    if redemption_id is None:
        return _twin_or(
            connection,
            nonce,
            establishment_id,
            Answer("refused", voucher=voucher, refusal=_already(connection, row.id)),
        )
    record_event(
        connection,
        "voucher.redeemed",
        f"establishment:{scan.by}",
        campaign_id=row.campaign_id,
        code_id=row.id,
        details={
            "redemption": redemption_id,
            "establishment": establishment_id,
            "amount_cents": amount_cents,
            "nonce": nonce,
        },
        at=now,
    )
    # The answer is made of what was written: no second read of the new row.
    found = Redemption(
        redemption_id,
        nonce,
        establishment_id,
        amount_cents,
        stay.stay_from,
        stay.stay_to,
        stay.reference,
        scan.by[:64],
        now,
        None,
        None,
    )
    return Answer("ok", redemption=found, voucher=voucher)


def _take(connection: Connection, code_id: int, establishment_id: str, now: dt.datetime, nonce: str) -> None:
    """The voucher's one use, by the ledger's guarded UPDATE; its refusals in the voucher's words."""
    try:
        # redeem_voucher looked the nonce up in this transaction already.
        use_code_id(
            connection,
            code_id,
            actor=f"establishment:{establishment_id}",
            now=now,
            nonce=nonce,
            fresh_nonce=True,
        )
    except CodeError as error:
        if error.code == "code_used_up":
            raise _already(connection, code_id) from None
        if error.code == "code_revoked":
            raise CodeError("the voucher is revoked", code="voucher_revoked") from None
        raise CodeError("the voucher expired", code="voucher_expired") from None


def _twin_or(connection: Connection, nonce: str, establishment_id: str, refused: Answer) -> Answer:
    """Our own twin (the same nonce) may have committed while we waited for the voucher's row."""
    twin = connection.execute(_BY_NONCE, {"nonce": nonce}).one_or_none()
    return refused if twin is None else _replay(connection, twin, establishment_id)


def _replay(connection: Connection, row: Any, establishment_id: str) -> Answer:
    if row.establishment_id != establishment_id:
        raise ConflictError("this nonce was used for another redemption", code="nonce_reused")
    voucher = connection.execute(_VOUCHER.where(codes.c.id == row.code_id)).one()
    return Answer("ok", redemption=_redemption(row), voucher=_voucher(voucher), replayed=True)


def undo_redemption(
    connection: Connection,
    redemption_id: int,
    *,
    establishment_id: str,
    by: str,
    now: dt.datetime,
    undo_minutes: int,
) -> Redemption:
    """Undo a mistaken redemption, by the establishment that made it, within ``undo_minutes`` of it:
    ``unknown_redemption`` (none of this establishment's), ``already_undone``, ``undo_too_late``
    (``until``)."""
    row = connection.execute(
        select(redemptions).where(
            redemptions.c.id == redemption_id, redemptions.c.establishment_id == establishment_id
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no redemption {redemption_id} here", code="unknown_redemption")
    if row.undone_at is not None:
        raise ConflictError("this redemption was undone already", code="already_undone")
    until = row.redeemed_at + dt.timedelta(minutes=undo_minutes)
    if now > until:
        raise ConflictError(
            f"a redemption can be undone until {until.isoformat()}",
            code="undo_too_late",
            until=until.isoformat(),
            time=until.astimezone(LOCAL).strftime("%H:%M"),
        )
    undone = connection.execute(
        redemptions.update()
        .where(redemptions.c.id == row.id, redemptions.c.undone_at.is_(None))
        .values(undone_at=now, undone_by=by[:64], live_code_id=None)
    ).rowcount
    if undone != 1:
        raise ConflictError("this redemption was undone already", code="already_undone")
    return_use(
        connection, row.code_id, row.nonce, actor=f"establishment:{by}", reason="redemption undone", now=now
    )
    record_event(
        connection,
        "voucher.redemption_undone",
        f"establishment:{by}",
        campaign_id=row.campaign_id,
        code_id=row.code_id,
        details={"redemption": row.id, "establishment": establishment_id},
        at=now,
    )
    return _redemption(connection.execute(select(redemptions).where(redemptions.c.id == row.id)).one())


def list_redemptions(connection: Connection, establishment_id: str, *, limit: int = 200) -> list[Redemption]:
    """The establishment's own redemptions, newest first (undone ones too): nobody else's."""
    query = (
        select(redemptions)
        .where(redemptions.c.establishment_id == establishment_id)
        .order_by(redemptions.c.redeemed_at.desc(), redemptions.c.id.desc())
        .limit(limit)
    )
    return [_redemption(row) for row in connection.execute(query)]
