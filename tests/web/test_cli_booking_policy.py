"""`courrier campaign booking-policy`: show and change a campaign's dose-2 window."""

from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner
from sqlalchemy import select

from courrier.cli import courrier
from courrier.db.schema import events

from .conftest import SLOT_DAY, bearer, citizen_token, first_slot


def test_the_policy_is_shown_changed_and_applied_to_dose_2(cli_env, engine, make_world, client):
    world = make_world()
    runner = CliRunner()
    shown = runner.invoke(courrier, ["campaign", "booking-policy", world.campaign, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == {
        "campaign": world.campaign,
        "doses": 2,
        "dose2_min_days": 21,
        "dose2_max_days": 42,
        "dose2_after_expiry": True,
    }
    changed = runner.invoke(
        courrier,
        ["campaign", "booking-policy", world.campaign, "--dose2-from-days", "28", "--dose2-to-days", "35"],
    )
    assert changed.exit_code == 0, changed.output
    assert "dose 2 from 28 to 35 days after dose 1, bookable" in changed.output
    kept = runner.invoke(
        courrier, ["campaign", "booking-policy", world.campaign, "--no-dose2-after-validity"]
    )
    assert "from 28 to 35 days" in kept.output
    assert "not bookable" in kept.output
    with engine.connect() as connection:
        recorded = connection.execute(
            select(events.c.details).where(events.c.type == "campaign.booking_policy")
        ).scalars()
        assert [json.loads(details)["after"]["dose2_min_days"] for details in recorded] == [28, 28]

    token = citizen_token(client, world.codes[0][1])
    first = first_slot(engine, world.campaign_id)
    assert client.post("/api/v1/bookings", json={"slot": first}, headers=bearer(token)).status_code == 201
    too_early = first_slot(engine, world.campaign_id, day=SLOT_DAY + dt.timedelta(days=22))
    refused = client.post("/api/v1/bookings", json={"slot": too_early, "dose": 2}, headers=bearer(token))
    assert refused.json()["error"]["code"] == "outside_dose_window"
    in_window = first_slot(engine, world.campaign_id, day=SLOT_DAY + dt.timedelta(days=29))
    booked = client.post("/api/v1/bookings", json={"slot": in_window, "dose": 2}, headers=bearer(token))
    assert booked.status_code == 201, booked.text


def test_a_window_that_ends_before_it_begins_is_refused(cli_env, make_world):
    world = make_world()
    runner = CliRunner()
    for args, rule in [
        (["--dose2-from-days", "50"], "dose 2 to:"),
        (["--dose2-to-days", "400"], "dose 2 to:"),
        (["--doses", "3"], "doses:"),
        (["--dose2-from-days", "-1"], "dose 2 from:"),
    ]:
        refused = runner.invoke(courrier, ["campaign", "booking-policy", world.campaign, *args, "--json"])
        assert refused.exit_code == 1, (args, refused.output)
        assert json.loads(refused.stdout)["error"]["code"] == "bad_booking_policy"
        assert json.loads(refused.stdout)["error"]["message"].startswith(rule)
    unknown = runner.invoke(courrier, ["campaign", "booking-policy", "nope", "--doses", "1"])
    assert unknown.exit_code == 1
