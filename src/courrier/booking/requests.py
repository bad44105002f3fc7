"""Requests from people: "I did not get my letter / I lost it" (kind ``resend``) and "I missed my phase"
(kind ``waiting_list``), each made with a matricule, a birth date and a postcode.

The answer never says whether the matricule is in the register: a request is stored whether or not a
person matches (``person_id`` NULL when none does), with the same statements in the same order either
way, so the response and its timing are the same. Only the print shop sees the match.

Requests are throttled per client (every request counts, matched or not: a failure cannot be told
apart), in ``throttle_counters`` like code entry, so the limit holds across workers and restarts.

A ``resend`` request waits (``pending``) for the print shop: ``courrier requests approve`` re-issues the
person's letter through the codes' re-issue (``codes.store.reissue_piece``), into the next
``courrier compose NAME --reissues`` job, with the same code for a voucher or certificate (re-sent
identical) and a new code otherwise (the old one revoked); ``reject`` closes it with a reason. A
``waiting_list`` request waits (``waiting``) for ``courrier campaign plan``, which puts it into a later
wave, first come first served (``campaigns.waiting_list``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from courrier.accounts.throttle import Limit, count_failure, retry_after
from courrier.accounts.users import ThrottledError
from courrier.campaigns.store import get_campaign
from courrier.codes.keys import Keys
from courrier.codes.store import reissue_piece
from courrier.db.schema import campaigns, letter_requests, persons
from courrier.db.transaction import write_transaction
from courrier.errors import ConflictError, NotFoundError
from courrier.register.matricule import matricule_problem

KINDS = ("resend", "waiting_list")
FIRST_STATE = {"resend": "pending", "waiting_list": "waiting"}
# Every request counts: 10 an hour from one client address.
CLIENT_LIMIT = Limit(failures=10, window_s=60 * 60, block_s=60 * 60)
# Kinds of campaign whose letter is re-sent identical (same code); the others get a new code.
SAME_CODE_KINDS = frozenset({"voucher", "certificate"})


@dataclass(frozen=True)
class LetterRequest:
    id: int
    kind: str
    campaign: str
    national_id: str
    birth_date: dt.date
    postcode: str
    person_id: int | None
    state: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None
    outcome: str | None
    piece_id: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "campaign": self.campaign,
            "national_id": self.national_id,
            "birth_date": self.birth_date.isoformat(),
            "postcode": self.postcode,
            "matched": self.person_id is not None,
            "person_id": self.person_id,
            "state": self.state,
            "created_at": self.created_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "decided_by": self.decided_by,
            "outcome": self.outcome,
            "piece_id": self.piece_id,
        }


def postcode_key(postcode: str) -> str:
    """A postcode as compared: letters and digits only, upper case, a Luxembourg ``L`` dropped
    (``L-1234``, ``l 1234`` and ``1234`` are the same)."""
    key = "".join(character for character in postcode.upper() if character.isalnum())
    return key[1:] if len(key) == 5 and key[0] == "L" and key[1:].isdigit() else key


def _matching_person(
    connection: Connection, national_id: str, birth_date: dt.date, postcode: str
) -> int | None:
    row = connection.execute(
        select(persons.c.id, persons.c.birth_date, persons.c.postcode).where(
            persons.c.national_id == national_id
        )
    ).one_or_none()
    # The comparison is done in Python on a row or on nothing: the same statement runs either way.
    if row is None or row.birth_date != birth_date or postcode_key(row.postcode) != postcode_key(postcode):
        return None
    return int(row.id)


def submit_request(
    engine: Engine,
    kind: str,
    campaign: str,
    national_id: str,
    birth_date: dt.date,
    postcode: str,
    *,
    client: str,
    now: dt.datetime,
) -> None:
    """Store a request; says nothing about the person. Refusals that reveal nothing: ``bad_matricule``
    (not a well-formed matricule), ``unknown_campaign``, ``throttled``. The same open request again (kind,
    campaign, matricule, birth date and postcode) is not stored twice (the answer is the same)."""
    assert kind in KINDS, kind
    national_id = national_id.strip()
    problem = matricule_problem(national_id)
    if problem is not None:
        raise ConflictError(f"matricule: {problem}", code="bad_matricule")
    postcode = postcode.strip()[:16]
    client = client[:64]
    with write_transaction(engine) as connection:
        wait = retry_after(connection, "request-client", client, now)
        if wait is not None:
            raise ThrottledError("too many requests: try again later", retry_after_s=wait)
        count_failure(connection, "request-client", client, CLIENT_LIMIT, now)
        campaign_id = connection.execute(
            select(campaigns.c.id).where(campaigns.c.name == campaign)
        ).scalar_one_or_none()
        if campaign_id is None:
            raise NotFoundError(f"no campaign {campaign!r}", code="unknown_campaign")
        person_id = _matching_person(connection, national_id, birth_date, postcode)
        already = connection.execute(
            select(letter_requests.c.id).where(
                letter_requests.c.kind == kind,
                letter_requests.c.campaign_id == campaign_id,
                letter_requests.c.national_id == national_id,
                letter_requests.c.birth_date == birth_date,
                letter_requests.c.postcode == postcode,
                letter_requests.c.state == FIRST_STATE[kind],
            )
        ).first()
        if already is None:
            connection.execute(
                letter_requests.insert().values(
                    kind=kind,
                    campaign_id=campaign_id,
                    national_id=national_id,
                    birth_date=birth_date,
                    postcode=postcode,
                    person_id=person_id,
                    state=FIRST_STATE[kind],
                    created_at=now,
                )
            )


def _query() -> Any:
    return select(letter_requests, campaigns.c.name.label("campaign_name")).join(
        campaigns, campaigns.c.id == letter_requests.c.campaign_id
    )


def _request(row: Any) -> LetterRequest:
    return LetterRequest(
        id=row.id,
        kind=row.kind,
        campaign=row.campaign_name,
        national_id=row.national_id,
        birth_date=row.birth_date,
        postcode=row.postcode,
        person_id=row.person_id,
        state=row.state,
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        outcome=row.outcome,
        piece_id=row.piece_id,
    )


def list_requests(
    connection: Connection, *, kind: str | None = None, state: str | None = None, campaign: str | None = None
) -> list[LetterRequest]:
    """Requests, oldest first (the order they are served in)."""
    query = _query()
    if kind is not None:
        query = query.where(letter_requests.c.kind == kind)
    if state is not None:
        query = query.where(letter_requests.c.state == state)
    if campaign is not None:
        query = query.where(campaigns.c.name == campaign)
    return [_request(row) for row in connection.execute(query.order_by(letter_requests.c.id))]


def get_request(connection: Connection, request_id: int) -> LetterRequest:
    row = connection.execute(_query().where(letter_requests.c.id == request_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no request {request_id}", code="unknown_request")
    return _request(row)


def _pending(connection: Connection, request_id: int) -> LetterRequest:
    found = get_request(connection, request_id)
    if found.kind != "resend" or found.state != "pending":
        raise ConflictError(
            f"request {request_id} is a {found.kind} request, {found.state}: only a pending re-send"
            " is decided here",
            code="request_decided",
        )
    return found


def approve_request(
    connection: Connection,
    request_id: int,
    *,
    keys: Keys,
    actor: str,
    now: dt.datetime,
    same_code: bool | None = None,
) -> LetterRequest:
    """Re-issue the person's letter for a pending ``resend`` request, in the caller's transaction, and
    record the new piece on the request. ``same_code`` None follows the campaign's kind (voucher and
    certificate: the same code; otherwise a new one). Refusals: ``request_unmatched`` (no person in the
    register matches: reject it), ``request_decided``, and the re-issue's own (``no_piece``, ...)."""
    found = _pending(connection, request_id)
    if found.person_id is None:
        raise ConflictError(
            f"request {request_id} matches no one in the register: reject it", code="request_unmatched"
        )
    campaign = get_campaign(connection, found.campaign)
    same = campaign.kind in SAME_CODE_KINDS if same_code is None else same_code
    done = reissue_piece(
        connection,
        campaign.name,
        str(found.person_id),
        same_code=same,
        keys=keys,
        actor=actor,
        reason=f"request {request_id}: letter not received or lost",
        now=now,
    )
    outcome = "re-issued with the same code" if same else "re-issued with a new code"
    _decide(connection, request_id, "approved", actor, now, outcome, done.new_piece_id)
    return get_request(connection, request_id)


def reject_request(
    connection: Connection, request_id: int, *, reason: str, actor: str, now: dt.datetime
) -> LetterRequest:
    """Close a pending ``resend`` request without a letter, with the reason."""
    _pending(connection, request_id)
    _decide(connection, request_id, "rejected", actor, now, reason, None)
    return get_request(connection, request_id)


def _decide(
    connection: Connection,
    request_id: int,
    state: str,
    actor: str,
    now: dt.datetime,
    outcome: str,
    piece_id: int | None,
) -> None:
    decided = connection.execute(
        letter_requests.update()
        .where(letter_requests.c.id == request_id, letter_requests.c.state == "pending")
        .values(state=state, decided_at=now, decided_by=actor, outcome=outcome, piece_id=piece_id)
    ).rowcount
    if decided != 1:
        raise ConflictError(f"request {request_id} was decided meanwhile", code="request_decided")
