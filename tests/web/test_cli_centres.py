"""`courrier centres import`, `courrier slots open|list`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from courrier.centres.centres_file import parse_centres
from courrier.cli import courrier
from courrier.errors import InputFileError

from .conftest import CENTRES_FILE


def test_import_open_and_list(cli_env, engine, make_world, tmp_path):
    world = make_world()  # imports the centres and opens slots itself; import again to test the command
    runner = CliRunner()
    imported = runner.invoke(courrier, ["centres", "import", str(CENTRES_FILE)])
    assert imported.exit_code == 0, imported.output
    assert "0 centres added, 5 updated; 12,452 places a week" in imported.output
    opened = runner.invoke(
        courrier, ["slots", "open", world.campaign, "--from", "2021-03-15", "--to", "2021-03-16"]
    )
    assert opened.exit_code == 0, opened.output
    assert opened.output.startswith("1")  # only Tuesday 16 March is new (the 15th was open already)
    days = json.loads(runner.invoke(courrier, ["slots", "list", world.campaign, "--json"]).output)
    victor_hugo = [d for d in days if d["centre"] == "LUX-VH" and d["day"] == "2021-01-25"]
    assert victor_hugo == [
        {"centre": "LUX-VH", "day": "2021-01-25", "slots": 60, "capacity": 960, "taken": 0}
    ]
    assert not [d for d in days if d["day"] == "2021-04-05"]  # Easter Monday is a closed day


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[centres]]\nid = 'A'\n", "name"),
        ("[[centres]]\nid = 'bad id!'\n", "id"),
        ("centres = 3\n", "[[centres]]"),
        (
            "[[centres]]\nid='A'\nname='n'\naddress='a'\ncommune='c'\nslot_minutes=0\npeople_per_slot=1\n",
            "slot_minutes",
        ),
        (
            "[[centres]]\nid='A'\nname='n'\naddress='a'\ncommune='c'\nslot_minutes=5\npeople_per_slot=1\n"
            "[centres.hours]\nmon=['12:00-08:00']\n",
            "hours.mon",
        ),
        ("[[centres]]\nid='A'\ncolour='red'\n", "unknown key"),
        ("not toml = = =", "not TOML"),
    ],
)
def test_a_bad_centres_file_names_what_is_wrong(text, problem):
    with pytest.raises(InputFileError) as caught:
        parse_centres(text)
    assert caught.value.code == "bad_centres_file"
    assert problem in str(caught.value)
