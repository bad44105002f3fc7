from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner

from courrier.cli import courrier
from courrier.db import make_engine

from ..campaigns.conftest import CAMPAIGN, add_persons, undated


def test_issue_lookup_reissue_commands(cli_env, tmp_path, template_dir):
    engine = make_engine(cli_env)
    add_persons(engine, *[{"birth_date": dt.date(1925 + n, 3, 1)} for n in range(3)])
    engine.dispose()
    campaign_file = tmp_path / "vaccination-75plus.toml"
    campaign_file.write_text(undated(CAMPAIGN))
    runner = CliRunner()

    missing_keys = runner.invoke(courrier, ["codes", "issue", "vaccination-75plus"])
    assert missing_keys.exit_code == 1
    assert runner.invoke(courrier, ["keys", "create"]).exit_code == 0
    assert runner.invoke(courrier, ["campaign", "create", str(campaign_file)]).exit_code == 0
    not_planned = runner.invoke(courrier, ["codes", "issue", "vaccination-75plus"])
    assert not_planned.exit_code == 1
    assert "not_planned" in not_planned.output
    assert runner.invoke(courrier, ["campaign", "plan", "vaccination-75plus"]).exit_code == 0

    issued = runner.invoke(courrier, ["codes", "issue", "vaccination-75plus", "--wave", "1", "--json"])
    assert issued.exit_code == 0, issued.output
    assert json.loads(issued.output)["issued"] == 2
    rest = runner.invoke(courrier, ["codes", "issue", "vaccination-75plus"])
    assert "1 codes issued, 2 pieces skipped" in rest.output

    reissued = runner.invoke(
        courrier,
        [
            "codes",
            "reissue",
            "vaccination-75plus",
            "--person",
            "1",
            "--new-code",
            "--reason",
            "lost",
            "--show-code",
            "--json",
        ],
    )
    assert reissued.exit_code == 0, reissued.output
    code = json.loads(reissued.output)["code"]
    found = runner.invoke(courrier, ["codes", "lookup", code, "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.output)["campaign"] == "vaccination-75plus"
    revoked = runner.invoke(courrier, ["codes", "revoke", code.lower(), "--reason", "reported stolen"])
    assert revoked.exit_code == 0, revoked.output
    assert (
        json.loads(runner.invoke(courrier, ["codes", "lookup", code, "--json"]).output)["status"] == "revoked"
    )
    typo = runner.invoke(courrier, ["codes", "lookup", code[:-1] + ("2" if code[-1] != "2" else "3")])
    assert typo.exit_code == 1
    assert "bad_check_character" in typo.output
    neither = runner.invoke(courrier, ["codes", "reissue", "vaccination-75plus", "--person", "1"])
    assert neither.exit_code == 2
