from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign, extend_campaign, get_campaign, template_hash
from courrier.db.schema import events, pieces, waves
from courrier.errors import ConflictError, NotFoundError, TemplateError

from .conftest import CAMPAIGN, NOW, add_persons, change_person


def _ages(*years: int) -> list[dict[str, object]]:
    return [{"birth_date": dt.date(year, 6, 1)} for year in years]


def test_plan_splits_the_cohort_into_dated_waves_oldest_first(engine, make_definition):
    oldest, second, third, young = add_persons(engine, *_ages(1930, 1935, 1940, 1980))
    add_persons(engine, {"birth_date": dt.date(1931, 1, 1), "deceased": True})
    add_persons(engine, {"birth_date": dt.date(1932, 1, 1), "address_unknown": True})
    create_campaign(engine, make_definition(), actor="test", now=NOW)
    report = plan_campaign(engine, "vaccination-75plus", actor="test", now=NOW)
    assert report.new_pieces == 3
    assert [(w.number, w.send_date, w.size) for w in report.waves] == [
        (1, dt.date(2021, 1, 18), 2),
        (2, dt.date(2021, 1, 25), 1),
    ]
    assert report.excluded == {"deceased": 1, "address_unknown": 1}
    assert report.waves[0].by_language == {"fr": 2}
    with engine.connect() as connection:
        order = connection.execute(select(pieces.c.person_id).order_by(pieces.c.id)).scalars().all()
    assert order == [oldest, second, third]
    assert young not in order


def test_planning_again_adds_newcomers_and_withdraws_who_died_or_moved(engine, make_definition):
    first, dies, moves = add_persons(engine, *_ages(1930, 1935, 1940))
    create_campaign(engine, make_definition(), actor="t", now=NOW)
    plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    again = plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    assert again.new_pieces == 0
    assert again.withdrawn == {}

    (newcomer,) = add_persons(engine, *_ages(1929))
    change_person(engine, dies, deceased=True)
    change_person(engine, moves, address_unknown=True)
    report = plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    assert report.new_pieces == 1
    assert report.new_waves == [3]
    assert report.waves[2].send_date == dt.date(2021, 2, 1)
    assert report.withdrawn == {"deceased": 1, "address_unknown": 1}
    assert [w.size for w in report.waves] == [1, 0, 1]
    with engine.connect() as connection:
        per_person = connection.execute(
            select(pieces.c.person_id, func.count()).group_by(pieces.c.person_id)
        ).all()
        withdrawals = (
            connection.execute(
                select(events.c.reason).where(events.c.type == "piece.withdrawn").order_by(events.c.id)
            )
            .scalars()
            .all()
        )
    assert all(count == 1 for _, count in per_person)
    assert {person for person, _ in per_person} == {first, dies, moves, newcomer}
    assert withdrawals == ["deceased", "address_unknown"]


def test_moving_abroad_withdraws_from_a_residents_only_campaign(engine, make_definition):
    (mover,) = add_persons(engine, *_ages(1930))
    residents = CAMPAIGN.replace('sources = ["rnpp"]', 'sources = ["rnpp"]\ncountries = ["LU"]')
    definition = make_definition(residents)
    create_campaign(engine, definition, actor="t", now=NOW)
    plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    change_person(engine, mover, country="FR", commune="", postcode="57100")
    report = plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    assert report.withdrawn == {"moved_abroad": 1}


def test_a_composed_wave_keeps_its_pieces(engine, make_definition):
    (dies,) = add_persons(engine, *_ages(1930))
    create_campaign(engine, make_definition(), actor="t", now=NOW)
    plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    with engine.begin() as connection:
        connection.execute(waves.update().values(state="composed"))
    change_person(engine, dies, deceased=True)
    report = plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    assert report.withdrawn == {}


def test_campaign_names_are_unique_and_templates_must_exist(engine, make_definition, tmp_path):
    create_campaign(engine, make_definition(), actor="t", now=NOW)
    with pytest.raises(ConflictError) as taken:
        create_campaign(engine, make_definition(), actor="t", now=NOW)
    assert taken.value.code == "campaign_exists"
    with pytest.raises(TemplateError) as missing:
        create_campaign(
            engine, make_definition(name='name = "other"', template='template = "nowhere"'), actor="t"
        )
    assert missing.value.code == "template_not_found"
    with engine.connect() as connection, pytest.raises(NotFoundError) as unknown:
        get_campaign(connection, "nope")
    assert unknown.value.code == "unknown_campaign"


def test_a_changed_template_is_a_new_version(engine, make_definition, template_dir):
    first = create_campaign(engine, make_definition(), actor="t", now=NOW)
    assert first.template_sha256 == template_hash(template_dir)
    text = template_dir / "text.fr.md"
    original = text.read_text("utf-8")
    text.write_text(original + "\nUne phrase de plus.\n", "utf-8")
    second = create_campaign(engine, make_definition(name='name = "second"'), actor="t", now=NOW)
    assert second.template_version_id != first.template_version_id
    text.write_text(original, "utf-8")
    third = create_campaign(engine, make_definition(name='name = "third"'), actor="t", now=NOW)
    assert third.template_version_id == first.template_version_id


def test_only_fixed_end_campaigns_extend_and_only_later(engine, make_definition):
    create_campaign(engine, make_definition(), actor="t", now=NOW)
    with pytest.raises(ConflictError) as fixed_days:
        extend_campaign(engine, "vaccination-75plus", dt.date(2022, 1, 1), actor="t")
    assert fixed_days.value.code == "not_extendable"
    voucher = make_definition(name='name = "voucher"', validity_days="valid_until = 2021-01-31")
    create_campaign(engine, voucher, actor="t", now=NOW)
    previous, _ = extend_campaign(engine, "voucher", dt.date(2021, 3, 31), actor="t", reason="decision 1")
    assert previous == dt.date(2021, 1, 31)
    with pytest.raises(ConflictError) as earlier:
        extend_campaign(engine, "voucher", dt.date(2021, 3, 1), actor="t")
    assert earlier.value.code == "not_later"
    with engine.connect() as connection:
        assert get_campaign(connection, "voucher").valid_until == dt.date(2021, 3, 31)
