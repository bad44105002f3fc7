"""The example campaigns on a generated register, through the real register import."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

from sqlalchemy import func, select

from courrier.campaigns.cohort import age_on
from courrier.campaigns.definition import read_definition
from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign
from courrier.codes.issue import issue_codes
from courrier.codes.keys import new_keys
from courrier.db.schema import codes, persons, pieces
from courrier.register.generate import generate_register
from courrier.register.load import import_register

from .conftest import NOW

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"
PHASES = (
    "vaccination-75plus",
    "vaccination-70-74",
    "vaccination-65-69",
    "vaccination-55-64",
    "vaccination-18-54",
)


def _examples(tmp_path: Path) -> Path:
    campaigns = tmp_path / "examples" / "campaigns"
    shutil.copytree(EXAMPLES, campaigns)
    for name in ("vaccination", "mass-testing", "voucher"):
        shutil.copytree(EXAMPLES.parent / "templates" / name, tmp_path / "examples" / "templates" / name)
    return campaigns


def test_example_campaigns_plan_and_issue_on_a_generated_register(engine, tmp_path):
    register = tmp_path / "register.csv"
    generate_register(register, people=1500, cross_border=200, seed=3)
    import_register(engine, register)
    campaigns = _examples(tmp_path)
    keys = new_keys()
    planned = {}
    for path in sorted(campaigns.glob("*.toml")):
        definition = read_definition(path)
        create_campaign(engine, definition, actor="t", now=NOW)
        report = plan_campaign(engine, definition.name, actor="t", now=NOW)
        planned[definition.name] = report.new_pieces
        issued = issue_codes(engine, definition.name, keys=keys, actor="t", wave=1, now=NOW)
        assert issued.issued == report.waves[0].size
    with engine.connect() as connection:
        everyone = connection.execute(select(persons)).all()
        distinct_codes = connection.execute(select(func.count(func.distinct(codes.c.hmac)))).scalar_one()
        all_codes = connection.execute(select(func.count()).select_from(codes)).scalar_one()
    assert distinct_codes == all_codes
    alive = [p for p in everyone if not p.deceased and not p.address_unknown]
    # Mass testing writes to adults only (its letter asks for an identity document).
    adults = [p for p in alive if age_on(p.birth_date, dt.date(2020, 5, 27)) >= 18]
    assert planned["mass-testing"] == len(adults) < len(alive)
    reference = dt.date(2021, 1, 15)
    residents_18 = [
        p for p in alive if p.source == "rnpp" and p.country == "LU" and age_on(p.birth_date, reference) >= 18
    ]
    # The age phases split adult residents without overlap or gap.
    assert sum(planned[name] for name in PHASES) == len(residents_18)
    sixteen = [p for p in alive if age_on(p.birth_date, dt.date(2020, 7, 1)) >= 16]
    assert planned["hotel-voucher"] == len(sixteen)


def test_someone_who_died_between_two_imports_is_withdrawn(engine, tmp_path):
    first = tmp_path / "register.csv"
    generate_register(first, people=400, seed=5)
    import_register(engine, first)
    campaigns = _examples(tmp_path)
    create_campaign(engine, read_definition(campaigns / "vaccination-75plus.toml"), actor="t", now=NOW)
    before = plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    with engine.connect() as connection:
        oldest = (
            connection.execute(
                select(persons.c.national_id)
                .join(pieces, pieces.c.person_id == persons.c.id)
                .order_by(pieces.c.id)
            )
            .scalars()
            .first()
        )
    assert oldest is not None
    with first.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        if row["national_id"] == oldest:
            row["deceased"] = "1"
    second = tmp_path / "register-2.csv"
    with second.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    import_register(engine, second)
    after = plan_campaign(engine, "vaccination-75plus", actor="t", now=NOW)
    assert after.withdrawn == {"deceased": 1}
    assert after.new_pieces == 0
    assert after.excluded["deceased"] == before.excluded["deceased"] + 1
    assert sum(w.size for w in after.waves) == before.new_pieces - 1
