"""`courrier purge CAMPAIGN` (issue 17): a campaign's personal data removed a configured time after it
ended, its aggregates and event counts kept, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, String, Text, func, select, update

from courrier.campaigns.plan import plan_campaign
from courrier.cli import courrier
from courrier.db.schema import (
    campaigns,
    letter_requests,
    metadata,
    operator_task_files,
    operator_tasks,
    persons,
    pieces,
    print_jobs,
)
from courrier.db.transaction import write_transaction
from courrier.errors import ConflictError
from courrier.production.purge import PERSONAL_TABLES, campaign_aggregates, campaign_end, purge_campaign
from courrier.production.tasks import start_task

from ..checkin.conftest import (
    client,
    clock,
    keys,
    make_client,
    make_definition,
    make_desk,
    make_world,
    password_hash,
    staff_tokens,
    template_dir,
)
from ..checkin.test_vaccinations import COMIRNATY, _record
from .conftest import add_job

__all__ = [
    "client",
    "clock",
    "keys",
    "make_client",
    "make_definition",
    "make_desk",
    "make_world",
    "password_hash",
    "staff_tokens",
    "template_dir",
]

# The tables that are the register's, not a campaign's: the persons themselves and an import's rejects.
REGISTER_TABLES = {"persons", "register_rejects"}
PERSON_COLUMNS = {"person_id", "piece_id", "code_id", "national_id"}


def _campaign_in_use(make_desk, engine: Engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Four people with codes: three booked, two checked in, one vaccinated (and the record corrected),
    a re-send request, and a print job whose files hold their names."""
    desk = make_desk(people=4, booked=3)
    first = desk.scan(desk.letter(0)).checkin
    desk.scan(desk.letter(1))
    record, _ = _record(engine, first.id, at=desk.at + dt.timedelta(minutes=15))
    from courrier.checkin.vaccinations import Dose, correct_vaccination

    with write_transaction(engine) as connection:
        correct_vaccination(
            connection,
            record.id,
            Dose(**{**COMIRNATY.__dict__, "lot": "FK1243"}),
            centre_id="LUX-VH",
            physician="physician1",
            nonce="fix-1",
            reason="lot digits swapped",
            now=desk.at + dt.timedelta(hours=1),
        )
        piece_ids = [row.id for row in connection.execute(select(pieces.c.id).order_by(pieces.c.id))]
        someone = connection.execute(select(persons).order_by(persons.c.id)).first()
        assert someone is not None
        connection.execute(
            letter_requests.insert().values(
                kind="resend",
                campaign_id=desk.campaign_id,
                national_id=someone.national_id,
                birth_date=someone.birth_date,
                postcode=someone.postcode,
                person_id=someone.id,
                state="pending",
                created_at=desk.at,
            )
        )
    add_job(engine, "J000001", piece_ids)
    folder = tmp_path / "jobs"
    folder.mkdir()
    with engine.begin() as connection:
        connection.execute(update(print_jobs).values(folder=str(folder)))
    for suffix in (".pdf", ".manifest.csv", ".inserter.csv", ".ticket.json"):
        (folder / f"J000001{suffix}").write_text(f"{someone.family_name} {someone.street}", encoding="utf-8")
    return desk, folder


def _text_of_every_row(engine: Engine, *, skip: set[str]) -> str:
    """Every text and key column of every table but ``skip``, as one string to search in."""
    found = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in skip:
                continue
            wanted = [c for c in table.c if isinstance(c.type, String | Text) or c.name in PERSON_COLUMNS]
            for row in connection.execute(select(*wanted)) if wanted else ():
                found.append(f"{table.name}: {tuple(row)}")
    return "\n".join(found)


def test_every_table_that_names_a_person_is_purged():
    naming = {
        table.name
        for table in metadata.sorted_tables
        if PERSON_COLUMNS & {column.name for column in table.c} and table.name not in REGISTER_TABLES
    }
    assert naming == {table.name for table in PERSONAL_TABLES}


def test_purge_removes_the_personal_data_and_keeps_the_counts(make_desk, engine: Engine, tmp_path: Path):
    desk, folder = _campaign_in_use(make_desk, engine, tmp_path)
    with engine.connect() as connection:
        name = connection.execute(select(campaigns.c.name)).scalar_one()
        ended = campaign_end(connection, desk.campaign_id)
        before = campaign_aggregates(connection, desk.campaign_id)
        people = list(connection.execute(select(persons.c.id, persons.c.family_name, persons.c.street)))
    assert ended == dt.date(2021, 3, 15)  # the last slot opened
    measures = {cell.measure for cell in before}
    assert {"letters", "codes", "bookings", "checkins", "vaccinations", "requests", "events"} <= measures
    assert sum(c.count for c in before if c.measure == "vaccinations") == 1  # the corrected record only

    # Before the retention time: refused, naming the day; nothing removed.
    with pytest.raises(ConflictError) as refused:
        purge_campaign(engine, name, after_days=90, actor="t", now=dt.datetime(2021, 6, 12, tzinfo=dt.UTC))
    assert refused.value.code == "purge_too_early"
    assert refused.value.facts["purge_from"] == "2021-06-13"

    later = dt.datetime(2021, 6, 13, 8, tzinfo=dt.UTC)
    trial = purge_campaign(engine, name, after_days=90, actor="t", now=later, dry_run=True)
    assert trial.rows["bookings"] == 3
    assert trial.rows["vaccinations"] == 2
    assert sorted(Path(f).name for f in trial.files) == [
        "J000001.inserter.csv",
        "J000001.manifest.csv",
        "J000001.pdf",
    ]
    assert (folder / "J000001.pdf").exists()
    with engine.connect() as connection:
        assert campaign_aggregates(connection, desk.campaign_id) == before  # a dry run changes nothing

    # A compose started from the operator's page, whose answer quotes a letter's failure, and a results
    # file waiting for the task worker: what they said of the letters goes, the tasks stay.
    _, family_name, street = people[0]
    task_id = start_task(
        engine,
        "compose",
        desk.campaign_id,
        name,
        {"wave": 1},
        started_by="op",
        now=later,
        what="compose",
        file=("J000001.results.csv", f"{family_name},{street}".encode()),
    )
    failure = {"failures": [{"piece_id": 1, "message": f"{family_name} {street} does not fit its box"}]}
    with engine.begin() as connection:
        connection.execute(
            update(operator_tasks).values(state="failed", active_key=None, result=json.dumps(failure))
        )

    done = purge_campaign(engine, name, after_days=90, actor="t", now=later)
    assert done.rows == trial.rows
    with engine.connect() as connection:
        assert connection.execute(select(operator_tasks.c.id, operator_tasks.c.result)).all() == [
            (task_id, None)
        ]
        assert connection.execute(select(func.count()).select_from(operator_task_files)).scalar_one() == 0
    with engine.connect() as connection:
        after = campaign_aggregates(connection, desk.campaign_id)
        purged_at = connection.execute(select(campaigns.c.purged_at)).scalar_one()
    assert after == before
    assert purged_at == later
    assert sorted(path.name for path in folder.iterdir()) == ["J000001.ticket.json"]
    # Nothing outside the register names a person of the campaign, or holds a code.
    rows = _text_of_every_row(engine, skip=REGISTER_TABLES)
    for _person_id, family_name, street in people:
        assert family_name not in rows
        assert street not in rows
    for _code_id, code in desk.codes:
        assert code not in rows
    with engine.connect() as connection:
        for table in PERSONAL_TABLES:
            left = connection.execute(select(table.c.id)).all()
            if table.name == "events":  # what the campaign itself went through, and the purge
                types = {t for (t,) in connection.execute(select(table.c.type))}
                assert all(t.startswith(("campaign.", "job.")) for t in types), types
                assert "campaign.purged" in types
            else:
                assert left == [], table.name

    # Its cohort cannot come back as new letters.
    with pytest.raises(ConflictError) as closed:
        plan_campaign(engine, name, actor="t", now=later)
    assert closed.value.code == "campaign_purged"

    # Again: nothing to do, the counts still the same.
    again = purge_campaign(engine, name, after_days=90, actor="t", now=later + dt.timedelta(days=1))
    assert again.already_purged_at == later
    with engine.connect() as connection:
        assert campaign_aggregates(connection, desk.campaign_id) == before


def test_purge_command_dry_run_then_purge(make_desk, engine: Engine, cli_env, tmp_path: Path, monkeypatch):
    from courrier.cli import purge as purge_cli

    _desk, folder = _campaign_in_use(make_desk, engine, tmp_path)
    with engine.connect() as connection:
        name = connection.execute(select(campaigns.c.name)).scalar_one()
    monkeypatch.setattr(purge_cli, "utcnow", lambda: dt.datetime(2021, 4, 1, tzinfo=dt.UTC))
    refused = CliRunner().invoke(courrier, ["purge", name])
    assert refused.exit_code == 1
    assert "[purge_too_early]" in refused.output
    assert "2021-06-13" in refused.output

    monkeypatch.setenv("COURRIER_PURGE_AFTER_DAYS", "10")
    trial = CliRunner().invoke(courrier, ["purge", name, "--dry-run"])
    assert trial.exit_code == 0, trial.output
    assert "would remove" in trial.output
    assert (folder / "J000001.pdf").exists()

    done = CliRunner().invoke(courrier, ["purge", name, "--json"])
    assert done.exit_code == 0, done.output
    facts = json.loads(done.output)
    assert facts["rows"]["codes"] == 4
    assert facts["dry_run"] is False
    assert not (folder / "J000001.pdf").exists()
    again = CliRunner().invoke(courrier, ["purge", name])
    assert again.exit_code == 0
    assert "already purged" in again.output

    monkeypatch.setenv("COURRIER_PURGE_AFTER_DAYS", "soon")
    wrong = CliRunner().invoke(courrier, ["purge", name])
    assert wrong.exit_code == 1
    assert "COURRIER_PURGE_AFTER_DAYS" in wrong.output
