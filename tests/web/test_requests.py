"""Requests: "I did not get my letter" (queued, approved into a re-issue, or rejected) and the waiting
list (planned into a later wave, first come first served); the answer never says whether a matricule
is in the register."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from courrier.booking.requests import postcode_key
from courrier.campaigns.plan import plan_campaign
from courrier.cli import courrier
from courrier.codes.keys import dump_keys
from courrier.db.schema import codes, letter_requests, persons, pieces
from courrier.register.matricule import make_matricule

from .conftest import bearer

BIRTH = dt.date(1930, 1, 1)


def _with_matricules(engine) -> list[str]:
    """Give the world's persons real matricules (the shared fixture's ids have no check digits)."""
    found = []
    with engine.begin() as connection:
        for number, (person_id, birth_date) in enumerate(
            connection.execute(select(persons.c.id, persons.c.birth_date).order_by(persons.c.id)).all()
        ):
            matricule = make_matricule(birth_date, 100 + number)
            connection.execute(
                persons.update().where(persons.c.id == person_id).values(national_id=matricule)
            )
            found.append(matricule)
    return found


def _body(campaign: str, matricule: str, birth_date: dt.date = BIRTH, postcode: str = "1234") -> dict:
    return {
        "campaign": campaign,
        "matricule": matricule,
        "birth_date": birth_date.isoformat(),
        "postcode": postcode,
    }


@contextmanager
def _statements(engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_answer_is_the_same_whether_the_matricule_exists_or_not(client: TestClient, make_world, engine):
    world = make_world()
    known = _with_matricules(engine)[0]
    unknown = make_matricule(BIRTH, 999)
    for path in ("/api/v1/requests", "/api/v1/waiting-list"):
        # The client's throttle counter exists from now on (its first request inserts it).
        client.post(path, json=_body(world.campaign, make_matricule(BIRTH, 998)))
        answers = {}
        statements = {}
        for name, matricule in (("known", known), ("unknown", unknown)):
            with _statements(engine) as seen:
                answers[name] = client.post(path, json=_body(world.campaign, matricule))
            statements[name] = seen
        assert answers["known"].status_code == answers["unknown"].status_code == 202
        assert answers["known"].content == answers["unknown"].content == b'{"status":"received"}'
        # Similar timing: the very same statements, in the same order, either way.
        assert statements["known"] == statements["unknown"]
        assert len(statements["known"]) >= 4
    with engine.connect() as connection:
        rows = connection.execute(
            select(letter_requests.c.kind, letter_requests.c.person_id, letter_requests.c.state).order_by(
                letter_requests.c.id
            )
        ).all()
    assert [(row.kind, row.person_id is not None, row.state) for row in rows] == [
        ("resend", False, "pending"),
        ("resend", True, "pending"),
        ("resend", False, "pending"),
        ("waiting_list", False, "waiting"),
        ("waiting_list", True, "waiting"),
        ("waiting_list", False, "waiting"),
    ]


def test_a_wrong_birth_date_or_postcode_matches_no_one_and_says_the_same(
    client: TestClient, make_world, engine
):
    world = make_world()
    known = _with_matricules(engine)[0]
    for body in (
        _body(world.campaign, known, BIRTH + dt.timedelta(days=1)),
        _body(world.campaign, known, postcode="9999"),
    ):
        assert client.post("/api/v1/requests", json=body).json() == {"status": "received"}
    assert (
        client.post("/api/v1/requests", json=_body(world.campaign, known, postcode="l-1234")).status_code
        == 202
    )
    with engine.connect() as connection:
        matched = (
            connection.execute(select(letter_requests.c.person_id).order_by(letter_requests.c.id))
            .scalars()
            .all()
        )
    assert [person is not None for person in matched] == [False, False, True]
    assert postcode_key("L-1234") == postcode_key("1234") == postcode_key(" l 1234")


def test_requests_are_checked_and_throttled_per_client(client: TestClient, make_world, engine):
    world = make_world()
    bad = client.post("/api/v1/requests", json=_body(world.campaign, "1930010112345"))
    assert bad.status_code == 422
    assert bad.json()["error"]["code"] == "bad_matricule"
    assert client.post("/api/v1/requests", json=_body("nope", make_matricule(BIRTH, 5))).status_code == 404
    statuses = [
        client.post("/api/v1/waiting-list", json=_body(world.campaign, make_matricule(BIRTH, n))).status_code
        for n in range(12)
    ]
    assert statuses[:9] == [202] * 9  # one of the ten was the unknown campaign's
    assert statuses[-1] == 429
    blocked = client.post("/api/v1/waiting-list", json=_body(world.campaign, make_matricule(BIRTH, 50)))
    assert int(blocked.headers["retry-after"]) > 0


def test_the_print_shop_lists_approves_and_rejects_resends(
    cli_env, client: TestClient, make_world, engine, keys, monkeypatch
):
    monkeypatch.setenv("COURRIER_KEYS", dump_keys(keys))
    world = make_world()
    known = _with_matricules(engine)
    client.post("/api/v1/requests", json=_body(world.campaign, known[0]))
    client.post("/api/v1/requests", json=_body(world.campaign, make_matricule(BIRTH, 999)))
    client.post("/api/v1/requests", json=_body(world.campaign, known[1], BIRTH + dt.timedelta(days=1)))
    runner = CliRunner()
    listed = json.loads(runner.invoke(courrier, ["requests", "list", "--json"]).stdout)
    assert [(item["kind"], item["matched"], item["state"]) for item in listed] == [
        ("resend", True, "pending"),
        ("resend", False, "pending"),
        ("resend", True, "pending"),
    ]
    first, unmatched, third = (item["id"] for item in listed)
    approved = runner.invoke(courrier, ["requests", "approve", str(first)])
    assert approved.exit_code == 0, approved.output
    assert "re-issued with a new code" in approved.stdout  # an invitation: a new code, the old revoked
    refused = runner.invoke(courrier, ["requests", "approve", str(unmatched), "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["error"]["code"] == "request_unmatched"
    again = runner.invoke(courrier, ["requests", "approve", str(first), "--json"])
    assert json.loads(again.stdout)["error"]["code"] == "request_decided"
    rejected = runner.invoke(courrier, ["requests", "reject", str(unmatched), "--reason", "no such person"])
    assert rejected.exit_code == 0, rejected.output
    # Its code has run out (the command runs today): it cannot be sent again as it is.
    same = runner.invoke(courrier, ["requests", "approve", str(third), "--same-code", "--json"])
    assert json.loads(same.stdout)["error"]["code"] == "code_expired"
    assert runner.invoke(courrier, ["requests", "approve", str(third)]).exit_code == 0
    with engine.connect() as connection:
        reissues = connection.execute(
            select(pieces.c.person_id, pieces.c.wave_id, pieces.c.reissue_number, pieces.c.code_id).where(
                pieces.c.reissue_number > 0
            )
        ).all()
        revoked = connection.execute(select(codes.c.id).where(codes.c.status == "revoked")).scalars().all()
    assert len(reissues) == 2
    assert all(row.wave_id is None for row in reissues)  # composed by `compose NAME --reissues`
    assert len(revoked) == 2  # both with a new code: the old ones revoked
    states = json.loads(runner.invoke(courrier, ["requests", "list", "--kind", "resend", "--json"]).stdout)
    assert [item["state"] for item in states] == ["approved", "rejected", "approved"]
    assert all(item["piece_id"] for item in states if item["state"] == "approved")


def test_the_operator_decides_through_the_api_audited(client: TestClient, make_world, engine, staff_tokens):
    world = make_world()
    known = _with_matricules(engine)
    client.post("/api/v1/requests", json=_body(world.campaign, known[0]))
    listed = client.get("/api/v1/staff/requests", headers=bearer(staff_tokens["operator"]))
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["requests"]
    assert client.get("/api/v1/staff/requests", headers=bearer(staff_tokens["helpline"])).status_code == 403
    done = client.post(
        f"/api/v1/staff/requests/{item['id']}/approve", json={}, headers=bearer(staff_tokens["operator"])
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "approved"


def test_the_waiting_list_goes_into_a_later_wave_first_come_first_served(
    client: TestClient, make_world, engine
):
    world = make_world()
    known = _with_matricules(engine)
    # The first two letters were posted and their codes ran out (valid to 1 February); the third's
    # code still books.
    with engine.begin() as connection:
        connection.execute(pieces.update().values(state="posted"))
    later = dt.datetime(2021, 2, 2, 9, 0, tzinfo=dt.UTC)
    with engine.begin() as connection:
        connection.execute(
            codes.update()
            .where(
                codes.c.person_id
                == select(persons.c.id).where(persons.c.national_id == known[2]).scalar_subquery()
            )
            .values(valid_until=dt.date(2021, 3, 1))
        )
    asking = [(known[1], 1), (make_matricule(BIRTH, 999), 0), (known[2], 2), (known[0], 0)]
    for matricule, days in asking:
        body = _body(world.campaign, matricule, BIRTH + dt.timedelta(days=days))
        assert client.post("/api/v1/waiting-list", json=body).status_code == 202
    report = plan_campaign(engine, world.campaign, actor="t", now=later)
    assert report.waiting_list == 2
    assert report.new_waves == [2]
    with engine.connect() as connection:
        planned = connection.execute(
            select(persons.c.national_id, pieces.c.sequence, pieces.c.reissue_number, pieces.c.reissue_of)
            .join(persons, persons.c.id == pieces.c.person_id)
            .where(pieces.c.reissue_number > 0)
            .order_by(pieces.c.sequence)
        ).all()
        outcomes = connection.execute(
            select(letter_requests.c.state, letter_requests.c.outcome).order_by(letter_requests.c.id)
        ).all()
    assert [row.national_id for row in planned] == [known[1], known[0]]  # the order they asked in
    assert all(row.reissue_number == 1 and row.reissue_of for row in planned)
    assert [tuple(row) for row in outcomes] == [
        ("planned", "planned in wave 2"),
        ("refused", "no_match"),
        ("refused", "code_still_valid"),
        ("planned", "planned in wave 2"),
    ]
    # Planning again plans nobody twice.
    assert plan_campaign(engine, world.campaign, actor="t", now=later).new_pieces == 0
