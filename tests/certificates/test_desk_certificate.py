"""The physician's printed certificate: after recording a dose on the physician's page, its EU DCC as a
PDF from our composer (fr, de, en), valid (qpdf), rendered by Ghostscript, its QR (at least 35 mm with
its quiet zone) decoded by zxing-cpp and verified by our verifier; the same record, the same
certificate; a corrected record has none."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from sqlalchemy import select
from tests.checkin.conftest import (
    CENTRE,
    OTHER,
    Accounts,
    accounts,
    clock,
    keys,
    make_client,
    make_definition,
    make_desk,
    make_world,
    password_hash,
    template_dir,
)
from tests.compose.conftest import PdfTools

from courrier.certificates.letter import TEMPLATE
from courrier.certificates.pki import folder_trust, init_pki
from courrier.certificates.revocation import revoke
from courrier.certificates.verify import verify_hc1
from courrier.db.schema import audit_log, persons, staff_users
from courrier.db.transaction import write_transaction
from courrier.web.pages import csrf

__all__ = [
    "accounts",
    "clock",
    "keys",
    "make_client",
    "make_definition",
    "make_desk",
    "make_world",
    "password_hash",
    "template_dir",
]
RESOLUTION = 300
DOSE = {
    "product": "EU/1/20/1528",
    "manufacturer": "ORG-100030215",
    "prophylaxis": "1119349007",
    "lot": "FK1234",
    "dose_number": "1",
    "series_doses": "2",
}


@pytest.fixture(scope="module")
def pdf_tools() -> PdfTools:
    return PdfTools()


@pytest.fixture
def dcc_folder(tmp_path: Path, clock) -> Path:
    folder = tmp_path / "dcc"
    init_pki(folder, "LU", clock.now - dt.timedelta(days=400))
    return folder


def _signed_in(client, accounts, name: str) -> str:
    token, csrf_token = accounts[name]
    client.cookies.clear()
    client.cookies.set("courrier_staff", token)
    return csrf_token


@pytest.fixture
def recorded(make_desk, make_client, clock, accounts, dcc_folder):
    """A person checked in and their dose 1 recorded on the physician's page: (client, page, record id)."""
    desk = make_desk(people=2)
    clock.now = desk.at
    # A name as registers hold them (the world's "Synthetic1" has a digit, which no passport name has).
    with write_transaction(desk.engine) as connection:
        connection.execute(persons.update().values(family_name="Ağaoğlu-Müller", given_names="Zoé Łucja"))
    client = make_client(dcc_dir=str(dcc_folder))
    token = _signed_in(client, accounts, "desk-lux")
    form = {csrf.FIELD: token, "code": desk.letter(0), "nonce": "c-1", "scanned": "1"}
    assert client.post("/reception/checkins", data=form).status_code == 201
    token = _signed_in(client, accounts, "doc-lux")
    checkin_id = int(re.search(r'id="checkin-(\d+)"', client.get("/physician").text).group(1))
    saved = client.post(
        f"/physician/checkins/{checkin_id}/vaccinations?lang=en",
        data={csrf.FIELD: token, "nonce": "v-1", **DOSE},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = client.get(saved.headers["location"]).text
    record_id = int(re.search(r'id="record-(\d+)" data-current="true"', page).group(1))
    return client, page, record_id, token, desk


def _qr_width_mm(image, text: str) -> float:
    """The decoded symbol's width on the rendered page, and a check that its quiet zone is clear."""
    [found] = [r for r in zxingcpp.read_barcodes(image) if r.text == text]
    xs = [found.position.top_left.x, found.position.top_right.x, found.position.bottom_left.x]
    ys = [found.position.top_left.y, found.position.bottom_left.y]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    pixels = np.asarray(image.convert("L"))
    module = (right - left) / 80  # at least this many modules: the margin below is under 4 modules
    margin = int(3.5 * module)
    band = pixels[top - margin : bottom + margin, left - margin : right + margin].copy()
    band[margin:-margin, margin:-margin] = 255
    assert band.min() > 128, "something is printed in the QR's quiet zone"
    return (right - left) / RESOLUTION * 25.4


def test_the_physician_prints_the_certificate_of_the_dose_just_recorded(
    recorded, engine, pdf_tools: PdfTools, dcc_folder: Path, tmp_path: Path, clock
):
    client, page, record_id, _token, _desk = recorded
    with engine.connect() as connection:
        person = connection.execute(select(persons).where(persons.c.id == 1)).one()
    hc1s = set()
    for language in ("fr", "de", "en"):
        link = re.search(rf'id="certificate-{record_id}-{language}" href="([^"]+)"', page).group(1)
        answer = client.get(link)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        pdf = tmp_path / f"certificate-{language}.pdf"
        pdf.write_bytes(answer.content)
        pdf_tools.check(pdf)
        image = pdf_tools.render(pdf, 1, RESOLUTION)
        [hc1] = [r.text for r in zxingcpp.read_barcodes(image) if r.format.name == "QRCode"]
        assert hc1.startswith("HC1:")
        assert _qr_width_mm(image, hc1) >= 35
        result = verify_hc1(hc1, folder_trust(dcc_folder), clock.now, frozenset())
        assert result.valid, result.to_json()
        payload = result.payload
        entry = payload["v"][0]
        assert (entry["mp"], entry["dn"], entry["sd"], entry["co"]) == ("EU/1/20/1528", 1, 2, "LU")
        text = " ".join(pdf_tools.text(pdf).split())
        title = tomllib.loads((TEMPLATE / f"strings.{language}.toml").read_text(encoding="utf-8"))["title"]
        assert title.replace("'", "’") in text
        assert entry["ci"] in text
        assert "Comirnaty" in text
        assert "Zoé Łucja Ağaoğlu-Müller" in text
        hc1s.add(hc1)
    # The register's name and birth date, and the same certificate in every language and every print.
    assert len(hc1s) == 1
    assert result.payload["nam"] == {
        "fn": "Ağaoğlu-Müller",
        "fnt": "AGAOGLU<MUELLER",
        "gn": "Zoé Łucja",
        "gnt": "ZOE<LUCJA",
    }
    assert result.payload["dob"] == person.birth_date.isoformat()
    again = client.get(f"/api/v1/vaccinations/{record_id}/certificate.pdf?lang=en")
    (tmp_path / "again.pdf").write_bytes(again.content)
    assert pdf_tools.barcodes(tmp_path / "again.pdf", 1)["QRCode"] in hc1s
    with engine.connect() as connection:
        printed = connection.execute(
            select(audit_log.c.subject).where(audit_log.c.action == "certificate.printed")
        ).all()
    assert [row.subject for row in printed] == [f"vaccination:{record_id}"] * 4
    # Revoked by its UVCI (shown on the paper), it is refused at the revoked step.
    revoke(dcc_folder, entry["ci"])
    assert verify_hc1(hc1, folder_trust(dcc_folder), clock.now, frozenset()).valid
    answer = client.post("/api/v1/dcc/verify", json={"hc1": hc1}).json()
    assert answer["failed_step"] == "revoked"


def test_a_corrected_record_has_no_certificate_its_correction_has(recorded, accounts):
    client, page, record_id, token, _desk = recorded
    fixed = client.post(
        f"/physician/vaccinations/{record_id}/correct",
        data={csrf.FIELD: token, "nonce": "fix-1", **DOSE, "lot": "FK9999", "reason": "lot mistyped"},
        follow_redirects=False,
    )
    assert fixed.status_code == 303
    page = client.get(fixed.headers["location"]).text
    new_id = int(re.search(r'id="record-(\d+)" data-current="true"', page).group(1))
    assert f'id="certificate-{record_id}-fr"' not in page
    assert f'id="certificate-{new_id}-fr"' in page
    old = client.get(f"/api/v1/vaccinations/{record_id}/certificate.pdf")
    assert old.status_code == 409
    assert old.json()["error"]["code"] == "vaccination_corrected"
    assert client.get(f"/api/v1/vaccinations/{new_id}/certificate.pdf").status_code == 200


def test_another_centre_s_physician_gets_no_certificate(recorded, engine, password_hash, clock):
    client, _page, record_id, _token, _desk = recorded
    with write_transaction(engine) as connection:
        connection.execute(
            staff_users.insert().values(
                username="doc-esch",
                password_hash=password_hash,
                role="physician",
                centre_id=OTHER,
                disabled=False,
                created_at=clock.now,
                updated_at=clock.now,
            )
        )
    token, _csrf = Accounts(engine, clock)["doc-esch"]
    client.cookies.clear()
    client.cookies.set("courrier_staff", token)
    answer = client.get(f"/api/v1/vaccinations/{record_id}/certificate.pdf")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "unknown_vaccination"
    assert CENTRE != OTHER
