"""Certificates by post: a campaign of kind ``certificate`` composes each vaccinated person's EU DCC as
a letter (the certificate template, their language) through the normal chain: plan (the vaccinated
only), no codes, presorted jobs with manifest and inserter file; the page rendered by Ghostscript, the
QR decoded by zxing-cpp and verified by our verifier, the same certificate the physician prints."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
import zxingcpp
from sqlalchemy import func, select
from tests.checkin.conftest import (
    CENTRE,
    clock,
    keys,
    make_definition,
    make_desk,
    make_world,
    password_hash,
    template_dir,
)
from tests.compose.conftest import PdfTools

from courrier.campaigns.definition import parse_definition
from courrier.campaigns.plan import plan_campaign
from courrier.certificates.letter import TEMPLATE
from courrier.certificates.pki import folder_trust, init_pki, load_signer
from courrier.certificates.verify import verify_hc1
from courrier.checkin.certificate import vaccination_certificate_pdf
from courrier.checkin.vaccinations import Dose, record_vaccination
from courrier.codes.issue import issue_codes
from courrier.db.schema import codes, persons, pieces
from courrier.db.transaction import write_transaction
from courrier.errors import CourrierError
from courrier.production.campaign_setup import define_campaign
from courrier.production.compose_wave import compose_wave

__all__ = ["clock", "keys", "make_definition", "make_desk", "make_world", "password_hash", "template_dir"]

CAMPAIGN = f"""
name = "certificates-2021"
kind = "certificate"
template = "{TEMPLATE}"
languages = ["fr", "de", "en", "pt", "lb"]

[cohort]
sources = ["rnpp"]
order = "postcode"

[waves]
size = 50
"""
NAMES = [("Ngô", "Thị Hương", "fr"), ("Müller", "Jürgen", "de"), ("Øverby", "Siân", "en")]


@pytest.fixture(scope="module")
def pdf_tools() -> PdfTools:
    return PdfTools()


@pytest.fixture
def vaccinated(make_desk, tmp_path: Path):
    """Four persons with bookings; the first three checked in and given dose 1, in three languages."""
    desk = make_desk(people=4)
    with write_transaction(desk.engine) as connection:
        ids = list(connection.execute(select(persons.c.id).order_by(persons.c.id)).scalars())
        for person_id, (family, given, language) in zip(ids, NAMES, strict=False):
            connection.execute(
                persons.update()
                .where(persons.c.id == person_id)
                .values(family_name=family, given_names=given, language=language)
            )
    records = []
    for index in range(3):
        answer = desk.scan(desk.letter(index))
        assert answer.status == "ok", answer.to_json()
        with write_transaction(desk.engine) as connection:
            record, _ = record_vaccination(
                connection,
                answer.checkin.id,
                Dose("EU/1/20/1528", "ORG-100030215", "1119349007", f"FK{index}", 1, 2),
                centre_id=CENTRE,
                physician="doc-lux",
                nonce=f"v-{index}",
                now=desk.at + dt.timedelta(minutes=10),
            )
        records.append(record)
    folder = tmp_path / "dcc"
    init_pki(folder, "LU", desk.at - dt.timedelta(days=30))
    return desk, records, folder


def test_a_certificate_campaign_posts_each_vaccinated_person_their_certificate(
    vaccinated, tmp_path: Path, dask_client, pdf_tools: PdfTools
):
    desk, records, folder = vaccinated
    now = desk.at + dt.timedelta(days=1)
    definition = parse_definition(CAMPAIGN, base=tmp_path)
    define_campaign(desk.engine, definition, actor="t", now=now)
    plan = plan_campaign(desk.engine, definition.name, actor="t", now=now)
    assert plan.to_json()
    with desk.engine.connect() as connection:
        campaign_pieces = connection.execute(
            select(pieces.c.person_id, pieces.c.code_id).where(pieces.c.campaign_id == 2)
        ).all()
        codes_before = connection.execute(select(func.count()).select_from(codes)).scalar_one()
    # The three vaccinated persons only, and no code for anyone.
    assert sorted(row.person_id for row in campaign_pieces) == sorted(r.person_id for r in records)
    assert all(row.code_id is None for row in campaign_pieces)
    # Without the document signer nothing is composed.
    with pytest.raises(CourrierError) as raised:
        compose_wave(desk.engine, definition.name, 1, out=tmp_path / "out", keys=desk.keys, actor="t",
                     now=now, client=dask_client)  # fmt: skip
    assert raised.value.code == "dcc_no_signer"
    signer = load_signer(folder)
    summary = compose_wave(desk.engine, definition.name, 1, out=tmp_path / "out", keys=desk.keys,
                           actor="t", now=now, client=dask_client, signer=signer)  # fmt: skip
    assert summary.failures == []
    assert summary.letters == 3
    [job] = summary.jobs
    pdf = summary.folder / f"{job}.pdf"
    pdf_tools.check(pdf)
    with (summary.folder / f"{job}.inserter.csv").open(encoding="utf-8") as file:
        assert len(list(csv.DictReader(file))) >= 3
    manifest = (summary.folder / f"{job}.manifest.csv").read_text(encoding="utf-8")
    trust = folder_trust(folder)
    by_name = {}
    for page in (1, 2, 3):
        image = pdf_tools.render(pdf, page, 300)
        [hc1] = [r.text for r in zxingcpp.read_barcodes(image) if r.format.name == "QRCode"]
        result = verify_hc1(hc1, trust, now, frozenset())
        assert result.valid, result.to_json()
        by_name[result.payload["nam"]["fn"]] = hc1
    assert sorted(by_name) == sorted(family for family, _given, _language in NAMES)
    text = " ".join(pdf_tools.text(pdf).split())
    for title in ("Certificat COVID numérique de l’UE", "Digitales COVID-Zertifikat der EU",
                  "EU Digital COVID Certificate"):  # fmt: skip
        assert title in text
    # The letter carries the same certificate the physician prints at the desk, and no personal code.
    with desk.engine.connect() as connection:
        for record in records:
            issued, _pdf = vaccination_certificate_pdf(connection, record.id, signer)
            assert issued.hc1 in by_name.values()
            assert issued.uvci in text
        assert connection.execute(select(func.count()).select_from(codes)).scalar_one() == codes_before
    for _code_id, code in desk.codes:
        assert code not in text
        assert code not in manifest


def test_codes_are_not_issued_for_a_certificate_campaign(vaccinated, tmp_path: Path):
    desk, _records, _folder = vaccinated
    now = desk.at + dt.timedelta(days=1)
    definition = parse_definition(CAMPAIGN, base=tmp_path)
    define_campaign(desk.engine, definition, actor="t", now=now)
    plan_campaign(desk.engine, definition.name, actor="t", now=now)
    with desk.engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(codes)).scalar_one()
    with pytest.raises(CourrierError) as raised:
        issue_codes(desk.engine, definition.name, keys=desk.keys, actor="t", now=now)
    assert raised.value.code == "no_codes_for_kind"
    assert "courrier compose certificates-2021 --wave N" in str(raised.value)
    with desk.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(codes)).scalar_one() == before
        assert (
            connection.execute(
                select(func.count())
                .select_from(pieces)
                .where(pieces.c.code_id.is_not(None), pieces.c.campaign_id == 2)
            ).scalar_one()
            == 0
        )
