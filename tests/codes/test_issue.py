from __future__ import annotations

import datetime as dt
import json
import secrets

import pytest
from sqlalchemy import func, select

from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign, extend_campaign, get_campaign
from courrier.codes.format import format_code, random_codes
from courrier.codes.issue import issue_codes
from courrier.codes.keys import new_keys
from courrier.codes.sealing import reveal_code
from courrier.codes.store import (
    lookup_code,
    qr_content,
    reissue_piece,
    revoke_code,
    revoke_typed_code,
    use_code,
)
from courrier.codes.token import verify_token
from courrier.db import write_transaction
from courrier.db.schema import codes, events, persons, pieces
from courrier.errors import CodeError, ConflictError, NotFoundError

from ..campaigns.conftest import CAMPAIGN, NOW, add_persons, change_person

KEYS = new_keys()
VOUCHER = (
    CAMPAIGN.replace('name = "vaccination-75plus"', 'name = "voucher"')
    .replace('kind = "invitation"', 'kind = "voucher"')
    .replace("validity_days = 14", "valid_until = 2021-12-31")
    .replace("max_uses = 2", "max_uses = 1")
)


def in_transaction(engine, use_case, *args, **kwargs):
    """Run a short use case the way the CLI does: in a write transaction of its own."""
    with write_transaction(engine) as connection:
        return use_case(connection, *args, **kwargs)


def _planned(engine, make_definition, people: int = 5, text: str = CAMPAIGN) -> str:
    add_persons(engine, *[{"birth_date": dt.date(1920 + n, 5, 5)} for n in range(people)])
    definition = make_definition(text)
    create_campaign(engine, definition, actor="t", now=NOW)
    plan_campaign(engine, definition.name, actor="t", now=NOW)
    return definition.name


def _code_of_piece(engine, piece_id: int) -> str:
    with engine.connect() as connection:
        sealed = connection.execute(
            select(codes.c.ciphertext)
            .join(pieces, pieces.c.code_id == codes.c.id)
            .where(pieces.c.id == piece_id)
        ).scalar_one()
    return reveal_code(KEYS, sealed)


def test_issue_gives_each_piece_of_a_wave_one_code_and_is_idempotent(engine, make_definition):
    name = _planned(engine, make_definition)
    first = issue_codes(engine, name, keys=KEYS, actor="t", wave=1, now=NOW)
    assert (first.issued, first.skipped) == (2, 0)
    again = issue_codes(engine, name, keys=KEYS, actor="t", now=NOW, chunk_size=1)
    assert (again.issued, again.skipped) == (3, 2)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(codes)).scalar_one() == 5
        assert connection.execute(select(func.count()).where(pieces.c.code_id.is_(None))).scalar_one() == 0
        wave_one = connection.execute(select(codes).where(codes.c.piece_id == 1)).one()
        issued_events = connection.execute(
            select(events.c.details).where(events.c.type == "code.issued")
        ).all()
    # Valid 14 days from the wave's send date.
    assert (wave_one.valid_from, wave_one.valid_until) == (dt.date(2021, 1, 18), dt.date(2021, 2, 1))
    assert wave_one.max_uses == 2
    assert sum(json.loads(row.details)["count"] for row in issued_events) == 5


def test_a_code_is_found_by_its_hmac_and_shows_its_status(engine, make_definition):
    name = _planned(engine, make_definition)
    issue_codes(engine, name, keys=KEYS, actor="t", now=NOW)
    code = _code_of_piece(engine, 3)
    with engine.connect() as connection:
        found = lookup_code(connection, KEYS, format_code(code).lower(), dt.date(2021, 1, 20))
        assert (found.campaign, found.piece_ids, found.status) == (name, [3], "active")
        assert lookup_code(connection, KEYS, code, dt.date(2021, 3, 1)).status == "expired"
        with pytest.raises(NotFoundError) as unknown:
            lookup_code(connection, KEYS, random_codes(1)[0], dt.date(2021, 1, 20))
        assert unknown.value.code == "unknown_code"
        with pytest.raises(NotFoundError):
            lookup_code(connection, new_keys(), code, dt.date(2021, 1, 20))
        stored = connection.execute(select(codes.c.hmac, codes.c.ciphertext)).all()
    assert all(code.encode() not in bytes(row.hmac) + bytes(row.ciphertext) for row in stored)


class _CollidingSource:
    """Random bytes that repeat an earlier draw once: the next code drawn equals one already issued."""

    def __init__(self, replay: bytes) -> None:
        self.replay: bytes | None = replay

    def __call__(self, count: int) -> bytes:
        if self.replay is not None:
            replay, self.replay = self.replay, None
            return replay + secrets.token_bytes(count - len(replay))
        return secrets.token_bytes(count)


def test_a_collision_with_an_issued_code_is_drawn_again(engine, make_definition):
    name = _planned(engine, make_definition)
    recorded: list[bytes] = []

    def recording(count: int) -> bytes:
        recorded.append(secrets.token_bytes(count))
        return recorded[-1]

    issue_codes(engine, name, keys=KEYS, actor="t", wave=1, now=NOW, randbytes=recording)
    # Wave 2's first draw is wave 1's first code again.
    report = issue_codes(
        engine, name, keys=KEYS, actor="t", wave=2, now=NOW, randbytes=_CollidingSource(recorded[0][:9])
    )
    assert report.issued == 2
    assert report.redrawn == 1
    with engine.connect() as connection:
        assert connection.execute(select(func.count(func.distinct(codes.c.hmac)))).scalar_one() == 4


def test_a_collision_within_a_chunk_is_drawn_again(engine, make_definition):
    name = _planned(engine, make_definition)
    draw = secrets.token_bytes(9)
    report = issue_codes(
        engine, name, keys=KEYS, actor="t", wave=1, now=NOW, randbytes=_CollidingSource(draw + draw)
    )
    assert (report.issued, report.redrawn) == (2, 1)


def test_reissue_with_the_same_code_sends_it_again(engine, make_definition):
    name = _planned(engine, make_definition, text=VOUCHER)
    issue_codes(engine, name, keys=KEYS, actor="t", now=NOW)
    with engine.connect() as connection:
        person_id = connection.execute(select(pieces.c.person_id).where(pieces.c.id == 1)).scalar_one()
    before = _code_of_piece(engine, 1)
    done = in_transaction(
        engine,
        reissue_piece,
        name,
        str(person_id),
        same_code=True,
        keys=KEYS,
        actor="clerk",
        reason="lost",
        now=NOW,
    )
    assert done.code == format_code(before)
    assert _code_of_piece(engine, done.new_piece_id) == before
    with engine.connect() as connection:
        states = dict(connection.execute(select(pieces.c.id, pieces.c.state)).all())
        found = lookup_code(connection, KEYS, before, dt.date(2021, 6, 1))
        logged = connection.execute(
            select(events.c.type, events.c.actor, events.c.reason).where(events.c.actor == "clerk")
        ).all()
    assert states[1] == "reissued"
    assert states[done.new_piece_id] == "planned"
    assert found.piece_ids == [1, done.new_piece_id]
    assert found.status == "active"
    assert {(row.type, row.reason) for row in logged} == {
        ("piece.reissued", "lost"),
        ("code.reissued", "lost"),
    }


def test_reissue_with_a_new_code_revokes_the_old(engine, make_definition):
    name = _planned(engine, make_definition)
    issue_codes(engine, name, keys=KEYS, actor="t", now=NOW)
    old = _code_of_piece(engine, 2)
    with engine.connect() as connection:
        person_id = connection.execute(select(func.min(codes.c.person_id))).scalar_one()
    done = in_transaction(
        engine, reissue_piece, name, str(person_id), same_code=False, keys=KEYS, actor="clerk", now=NOW
    )
    assert done.code != format_code(old)
    today = dt.date(2021, 1, 12)
    with engine.connect() as connection:
        old_found = lookup_code(connection, KEYS, _code_of_piece(engine, done.old_piece_id), today)
        new_found = lookup_code(connection, KEYS, done.code, today)
    assert old_found.status == "revoked"
    assert new_found.status == "active"
    # A new letter's code counts its validity from the re-issue day.
    assert new_found.valid_from == NOW.date()
    # A revoked code is never sent again.
    with engine.begin() as connection:
        revoke_code(connection, done.code_id, actor="clerk", reason="test", now=NOW)
    with pytest.raises(CodeError) as again:
        in_transaction(
            engine, reissue_piece, name, str(person_id), same_code=True, keys=KEYS, actor="clerk", now=NOW
        )
    assert again.value.code == "code_revoked"


def test_reissue_needs_a_piece_with_a_code(engine, make_definition):
    name = _planned(engine, make_definition)
    with pytest.raises(ConflictError) as no_code:
        in_transaction(engine, reissue_piece, name, "1", same_code=True, keys=KEYS, actor="t", now=NOW)
    assert no_code.value.code == "no_code_yet"
    (outsider,) = add_persons(engine, {"birth_date": dt.date(2000, 1, 1)})
    with pytest.raises(NotFoundError) as no_piece:
        in_transaction(
            engine, reissue_piece, name, str(outsider), same_code=False, keys=KEYS, actor="t", now=NOW
        )
    assert no_piece.value.code == "no_piece"


def test_extension_moves_every_code_of_the_campaign(engine, make_definition):
    name = _planned(engine, make_definition, text=VOUCHER)
    issue_codes(engine, name, keys=KEYS, actor="t", now=NOW)
    code = _code_of_piece(engine, 1)
    later = dt.date(2022, 1, 15)
    with engine.connect() as connection:
        assert lookup_code(connection, KEYS, code, later).status == "expired"
    extend_campaign(engine, name, dt.date(2022, 3, 31), actor="minister", reason="second extension")
    with engine.connect() as connection:
        found = lookup_code(connection, KEYS, code, later)
        event = connection.execute(select(events).where(events.c.type == "campaign.extended")).one()
    assert found.status == "active"
    assert found.valid_until == dt.date(2022, 3, 31)
    assert (event.actor, event.reason) == ("minister", "second extension")
    assert json.loads(event.details)["codes"] == 5


def test_withdrawing_a_piece_revokes_its_code(engine, make_definition):
    name = _planned(engine, make_definition)
    issue_codes(engine, name, keys=KEYS, actor="t", now=NOW)
    code = _code_of_piece(engine, 1)
    with engine.connect() as connection:
        person_id = connection.execute(select(pieces.c.person_id).where(pieces.c.id == 1)).scalar_one()
    change_person(engine, person_id, deceased=True)
    plan_campaign(engine, name, actor="t", now=NOW)
    with engine.connect() as connection:
        assert lookup_code(connection, KEYS, code, dt.date(2021, 1, 20)).status == "revoked"


def test_signed_qr_content_verifies_offline(engine, make_definition):
    signed = VOUCHER.replace('content = "https://rdv.example.lu/c/{code}"', "signed = true")
    name = _planned(engine, make_definition, text=signed)
    issue_codes(engine, name, keys=KEYS, actor="t", now=NOW)
    with engine.connect() as connection:
        campaign = get_campaign(connection, name)
        row = connection.execute(select(codes).where(codes.c.piece_id == 1)).one()
    content = qr_content(
        campaign,
        _code_of_piece(engine, 1),
        keys=KEYS,
        code_id=row.id,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )
    claims = verify_token(content, {1: KEYS.public_key(1)}, dt.date(2021, 6, 1))
    assert (claims.campaign_id, claims.code_id) == (campaign.id, row.id)


def test_a_voucher_is_used_once_and_a_dose_code_twice(engine, make_definition):
    voucher = _planned(engine, make_definition, people=1, text=VOUCHER)
    issue_codes(engine, voucher, keys=KEYS, actor="t", now=NOW)
    code = _code_of_piece(engine, 1)
    at = dt.datetime(2021, 6, 1, 12, tzinfo=dt.UTC)
    assert in_transaction(engine, use_code, KEYS, code, actor="hotel", now=at).status == "used_up"
    with pytest.raises(CodeError) as twice:
        in_transaction(engine, use_code, KEYS, code, actor="hotel", now=at)
    assert twice.value.code == "code_used_up"

    dose = make_definition(CAMPAIGN.replace('name = "vaccination-75plus"', 'name = "doses"'))
    create_campaign(engine, dose, actor="t", now=NOW)
    plan_campaign(engine, "doses", actor="t", now=NOW)
    issue_codes(engine, "doses", keys=KEYS, actor="t", now=NOW)
    with engine.connect() as connection:
        piece_id = connection.execute(
            select(pieces.c.id).where(pieces.c.campaign_id == get_campaign(connection, "doses").id)
        ).scalar_one()
    dose_code = _code_of_piece(engine, piece_id)
    on_time = dt.datetime(2021, 1, 20, 9, tzinfo=dt.UTC)
    with pytest.raises(CodeError) as early:
        in_transaction(engine, use_code, KEYS, dose_code, actor="centre", now=NOW)
    assert early.value.code == "code_not_yet_valid"
    assert in_transaction(engine, use_code, KEYS, dose_code, actor="centre", now=on_time).status == "active"
    assert in_transaction(engine, use_code, KEYS, dose_code, actor="centre", now=on_time).status == "used_up"


def test_an_expired_or_revoked_code_is_refused(engine, make_definition):
    name = _planned(engine, make_definition, people=2)
    issue_codes(engine, name, keys=KEYS, actor="t", now=NOW)
    late = dt.datetime(2021, 2, 2, 9, tzinfo=dt.UTC)
    with pytest.raises(CodeError) as expired:
        in_transaction(engine, use_code, KEYS, _code_of_piece(engine, 1), actor="centre", now=late)
    assert expired.value.code == "code_expired"
    stolen = _code_of_piece(engine, 2)
    in_transaction(engine, revoke_typed_code, KEYS, stolen, actor="clerk", reason="reported stolen", now=NOW)
    with pytest.raises(ConflictError) as again:
        in_transaction(engine, revoke_typed_code, KEYS, stolen, actor="clerk", reason="again", now=NOW)
    assert again.value.code == "already_revoked"
    with pytest.raises(CodeError) as revoked:
        in_transaction(
            engine, use_code, KEYS, stolen, actor="centre", now=dt.datetime(2021, 1, 20, tzinfo=dt.UTC)
        )
    assert revoked.value.code == "code_revoked"


class _CrashAfter:
    """A random source that fails after ``calls`` draws: a crash in the middle of an issue run."""

    def __init__(self, calls: int) -> None:
        self.calls = calls

    def __call__(self, count: int) -> bytes:
        if self.calls == 0:
            raise KeyboardInterrupt
        self.calls -= 1
        # A zero first byte in each 9-byte draw keeps it below the rejection bound, so every call yields
        # its codes and the crash comes after exactly ``calls`` chunks (a redraw made this test flaky).
        return b"".join(b"\x00" + secrets.token_bytes(8) for _ in range(count // 9))


def test_an_interrupted_issue_resumes_without_duplicates(engine, make_definition):
    name = _planned(engine, make_definition, people=5, text=CAMPAIGN.replace("size = 2", "size = 5"))
    with pytest.raises(KeyboardInterrupt):
        issue_codes(engine, name, keys=KEYS, actor="t", now=NOW, chunk_size=2, randbytes=_CrashAfter(2))
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(codes)).scalar_one() == 4
    resumed = issue_codes(engine, name, keys=KEYS, actor="t", now=NOW, chunk_size=2)
    assert (resumed.issued, resumed.skipped) == (1, 4)
    with engine.connect() as connection:
        assert connection.execute(select(func.count(func.distinct(codes.c.piece_id)))).scalar_one() == 5
        assert connection.execute(select(func.count()).where(pieces.c.code_id.is_(None))).scalar_one() == 0


def test_a_deceased_person_gets_no_reissue(engine, make_definition):
    name = _planned(engine, make_definition, people=1, text=VOUCHER)
    issue_codes(engine, name, keys=KEYS, actor="t", now=NOW)
    with engine.connect() as connection:
        person_id = connection.execute(select(pieces.c.person_id)).scalar_one()
    change_person(engine, person_id, deceased=True)
    with pytest.raises(ConflictError) as caught:
        in_transaction(
            engine, reissue_piece, name, str(person_id), same_code=True, keys=KEYS, actor="t", now=NOW
        )
    assert caught.value.code == "person_deceased"


def test_reissue_finds_the_person_by_national_id(engine, make_definition):
    name = _planned(engine, make_definition, people=1, text=VOUCHER)
    issue_codes(engine, name, keys=KEYS, actor="t", now=NOW)
    with engine.connect() as connection:
        national_id = connection.execute(select(persons.c.national_id)).scalar_one()
    done = in_transaction(
        engine, reissue_piece, name, national_id, same_code=True, keys=KEYS, actor="t", now=NOW
    )
    assert done.old_piece_id == 1
    with pytest.raises(NotFoundError) as unknown:
        in_transaction(engine, reissue_piece, name, "someone", same_code=True, keys=KEYS, actor="t", now=NOW)
    assert unknown.value.code == "unknown_person"


def test_two_runs_racing_on_a_wave_issue_each_piece_once(engine, make_definition):
    name = _planned(engine, make_definition)
    other_run: list[object] = []

    def racing(count: int) -> bytes:
        # Another run issues the whole wave after this one listed its pieces, before it inserts.
        if not other_run:
            other_run.append(issue_codes(engine, name, keys=KEYS, actor="other", wave=1, now=NOW))
        return secrets.token_bytes(count)

    report = issue_codes(engine, name, keys=KEYS, actor="t", wave=1, now=NOW, randbytes=racing)
    assert (report.issued, report.skipped) == (0, 2)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(codes)).scalar_one() == 2
        assert (
            connection.execute(
                select(func.count()).where(pieces.c.wave_id == 1, pieces.c.code_id.is_(None))
            ).scalar_one()
            == 0
        )
