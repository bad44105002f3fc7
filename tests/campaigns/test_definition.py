from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from courrier.campaigns.definition import parse_definition, read_definition
from courrier.errors import InputFileError

from .conftest import CAMPAIGN

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"


def test_the_campaign_file_is_read_whole():
    definition = parse_definition(CAMPAIGN, base=Path("/campaigns"))
    assert definition.name == "vaccination-75plus"
    assert definition.template == Path("/campaigns/template")
    assert definition.cohort.min_age == 75
    assert definition.cohort.reference_date == dt.date(2021, 1, 15)
    assert definition.waves.size == 2
    assert definition.codes.validity_days == 14
    assert definition.codes.max_uses == 2


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ('kind = "leaflet"', "kind"),
        ("min_age = -3", "min_age"),
        ('min_age = "75"', "min_age"),
        ("typo_key = 1", "typo_key"),
        ('content = "https://rdv.example.lu/c/"', "{code}"),
    ],
)
def test_a_wrong_field_is_named(change: str, fragment: str):
    key = change.split("=")[0].strip()
    lines = CAMPAIGN.splitlines()
    if key == "typo_key":
        lines.insert(lines.index("[cohort]") + 1, change)
    else:
        lines = [change if line.split("=")[0].strip() == key else line for line in lines]
    with pytest.raises(InputFileError) as caught:
        parse_definition("\n".join(lines))
    assert caught.value.code == "bad_campaign_file"
    assert fragment in str(caught.value)


def test_daily_capacity_makes_waves_of_capacity_times_days():
    text = CAMPAIGN.replace("size = 2", "daily_capacity = 4000")
    assert parse_definition(text).waves.size == 4000 * 7


def test_either_validity_days_or_a_fixed_end():
    with pytest.raises(InputFileError) as caught:
        parse_definition(
            CAMPAIGN.replace("validity_days = 14", "validity_days = 14\nvalid_until = 2021-12-31")
        )
    assert caught.value.code == "bad_campaign_file"


def test_the_example_campaigns_parse():
    files = sorted(EXAMPLES.glob("*.toml"))
    assert len(files) >= 7
    for path in files:
        definition = read_definition(path)
        assert definition.name == path.stem


def test_a_public_title_is_given_in_every_campaign_language_or_not_at_all():
    titled = parse_definition(CAMPAIGN + '[title]\nfr = "Vaccination"\nde = "Impfung"\n')
    assert (titled.title("fr"), titled.title("de")) == ("Vaccination", "Impfung")
    assert parse_definition(CAMPAIGN).title("fr") == "vaccination-75plus"
    for broken in (
        '[title]\nfr = "Vaccination"\n',
        '[title]\nfr = "V"\nde = "I"\nxx = "?"\n',
        'title = "V"\n',
    ):
        with pytest.raises(InputFileError) as caught:
            parse_definition(CAMPAIGN.replace("[cohort]", broken + "[cohort]", 1))
        assert caught.value.code == "bad_campaign_file"
        assert "title" in str(caught.value)
