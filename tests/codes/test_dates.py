"""Dates are checked where they are made: a campaign, a plan, an issue or a re-issue never makes a code
that is expired, or not valid on the day its letter is sent (issue 11)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign
from courrier.cli import courrier
from courrier.codes.issue import issue_codes
from courrier.codes.keys import new_keys
from courrier.codes.store import reissue_piece
from courrier.db import make_engine, write_transaction
from courrier.db.schema import codes
from courrier.errors import ConflictError, InputFileError

from ..campaigns.conftest import CAMPAIGN, NOW, add_persons

KEYS = new_keys()
ROOT = Path(__file__).resolve().parents[2]
FIXED_END = CAMPAIGN.replace("validity_days = 14", "valid_until = 2021-01-31")


def test_campaign_whose_codes_end_before_the_first_wave_is_refused(make_definition):
    with pytest.raises(InputFileError) as caught:
        make_definition(FIXED_END.replace("2021-01-31", "2021-01-17"))
    assert caught.value.code == "bad_campaign_file"
    assert "before the first wave" in str(caught.value)


def test_campaign_whose_codes_already_ended_is_refused(engine, make_definition):
    with pytest.raises(ConflictError) as caught:
        create_campaign(engine, make_definition(FIXED_END), actor="t", now=NOW + dt.timedelta(days=30))
    assert caught.value.code == "code_expired"


def test_plan_refuses_a_wave_whose_codes_would_be_expired(engine, make_definition):
    add_persons(engine, {"birth_date": dt.date(1930, 1, 1)})
    create_campaign(engine, make_definition(), actor="t", now=NOW)
    with pytest.raises(ConflictError) as caught:  # sent 2021-01-18, valid 14 days, planned in March
        plan_campaign(engine, "vaccination-75plus", actor="t", now=dt.datetime(2021, 3, 1, tzinfo=dt.UTC))
    assert caught.value.code == "code_expired"
    assert "[waves] start" in str(caught.value)


def test_codes_issue_refuses_codes_that_would_be_expired(engine, make_definition):
    add_persons(engine, {"birth_date": dt.date(1930, 1, 1)})
    create_campaign(engine, make_definition(FIXED_END), actor="t", now=NOW)
    plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    late = dt.datetime(2021, 2, 5, tzinfo=dt.UTC)
    with pytest.raises(ConflictError) as caught:
        issue_codes(engine, "vaccination-75plus", keys=KEYS, actor="t", now=late)
    assert caught.value.code == "code_expired"
    assert "courrier campaign extend vaccination-75plus" in str(caught.value)
    with engine.connect() as connection:
        assert connection.execute(select(codes.c.id)).first() is None


def test_reissue_with_a_new_code_after_the_campaign_ended_is_refused(engine, make_definition):
    [person] = add_persons(engine, {"birth_date": dt.date(1930, 1, 1)})
    create_campaign(engine, make_definition(FIXED_END), actor="t", now=NOW)
    plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    issue_codes(engine, "vaccination-75plus", keys=KEYS, actor="t", now=NOW)
    with pytest.raises(ConflictError) as caught, write_transaction(engine) as connection:
        reissue_piece(
            connection,
            "vaccination-75plus",
            str(person),
            same_code=False,
            keys=KEYS,
            actor="t",
            now=dt.datetime(2021, 2, 5, tzinfo=dt.UTC),
        )
    assert caught.value.code == "code_expired"


def test_reissue_refuses_both_same_and_new_code(cli_env):
    result = CliRunner().invoke(
        courrier, ["codes", "reissue", "x", "--person", "1", "--same-code", "--new-code"]
    )
    assert result.exit_code == 2
    assert "one of --same-code or --new-code" in result.output


def test_example_campaigns_issue_codes_valid_from_today(cli_env, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("COURRIER_KEY_FILE", str(tmp_path / "courrier.keys"))
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples", examples)
    runner = CliRunner()
    commands = [
        ["register", "generate", "--people", "400", "--cross-border", "20", "--seed", "2", "-o", "r.csv"],
        ["register", "import", "r.csv"],
        ["keys", "create"],
    ]
    names = ("vaccination-75plus", "mass-testing", "hotel-voucher")
    for name in names:
        commands += [
            ["campaign", "create", str(examples / "campaigns" / f"{name}.toml")],
            ["campaign", "plan", name],
            ["codes", "issue", name, "--wave", "1"],
        ]
    for command in commands:
        done = runner.invoke(courrier, command)
        assert done.exit_code == 0, (command, done.output)
    today = dt.datetime.now(dt.UTC).date()
    engine = make_engine(cli_env)
    with engine.connect() as connection:
        periods = connection.execute(select(codes.c.valid_from, codes.c.valid_until)).all()
    engine.dispose()
    assert periods
    assert all(valid_from == today and valid_until > today for valid_from, valid_until in periods)


def test_an_unknown_commune_in_a_cohort_is_refused_not_an_empty_cohort(engine, make_definition):
    add_persons(engine, {"birth_date": dt.date(1930, 1, 1)})
    text = CAMPAIGN.replace("[waves]", 'communes = ["Atlantis"]\n[waves]')
    create_campaign(engine, make_definition(text), actor="t", now=NOW)
    with pytest.raises(ConflictError) as caught:
        plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    assert caught.value.code == "unknown_commune"
