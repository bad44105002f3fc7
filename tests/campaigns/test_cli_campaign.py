from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from courrier.cli import courrier
from courrier.db import make_engine

from .conftest import add_persons

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"


def _examples_with_templates(tmp_path: Path) -> Path:
    """The example campaign files beside copies of the example templates."""
    campaigns = tmp_path / "examples" / "campaigns"
    shutil.copytree(EXAMPLES, campaigns)
    for name in ("vaccination", "mass-testing", "voucher"):
        shutil.copytree(EXAMPLES.parent / "templates" / name, tmp_path / "examples" / "templates" / name)
    return campaigns


def test_campaign_commands_create_list_show_plan(cli_env, tmp_path):
    engine = make_engine(cli_env)
    add_persons(engine, *[{"birth_date": dt.date(1925 + n, 3, 1)} for n in range(5)])
    engine.dispose()
    campaigns = _examples_with_templates(tmp_path)
    runner = CliRunner()
    for name in ("vaccination-75plus", "hotel-voucher", "mass-testing"):
        created = runner.invoke(courrier, ["campaign", "create", str(campaigns / f"{name}.toml")])
        assert created.exit_code == 0, created.output
    again = runner.invoke(courrier, ["campaign", "create", str(campaigns / "mass-testing.toml")])
    assert again.exit_code == 1
    assert "campaign_exists" in again.output

    plan = runner.invoke(courrier, ["campaign", "plan", "vaccination-75plus", "--json"])
    assert plan.exit_code == 0, plan.output
    report = json.loads(plan.output)
    assert report["new_pieces"] == 5
    assert report["waves"][0]["send_date"] is None  # no fixed start: dated when its codes are issued
    text = runner.invoke(courrier, ["campaign", "plan", "vaccination-75plus"])
    assert "nobody new to plan" in text.output

    listed = runner.invoke(courrier, ["campaign", "list", "--json"])
    assert [row["name"] for row in json.loads(listed.output)] == [
        "vaccination-75plus",
        "hotel-voucher",
        "mass-testing",
    ]
    shown = runner.invoke(courrier, ["campaign", "show", "hotel-voucher", "--json"])
    assert json.loads(shown.output)["qr"]["signed"] is True
    human = runner.invoke(courrier, ["campaign", "show", "vaccination-75plus"])
    assert human.exit_code == 0
    assert "14 days from the letter" in human.output

    extended = runner.invoke(courrier, ["campaign", "extend", "hotel-voucher", "--until", "2031-03-31"])
    assert extended.exit_code == 0, extended.output
    refused = runner.invoke(courrier, ["campaign", "extend", "vaccination-75plus", "--until", "2021-03-31"])
    assert refused.exit_code == 1
    assert "not_extendable" in refused.output


def test_missing_template_is_one_line(cli_env, tmp_path):
    result = CliRunner().invoke(courrier, ["campaign", "create", str(EXAMPLES / "mass-testing.toml")])
    if (EXAMPLES.parent / "templates" / "mass-testing").is_dir():
        assert result.exit_code == 0
    else:
        assert result.exit_code == 1
        assert "template_not_found" in result.output
