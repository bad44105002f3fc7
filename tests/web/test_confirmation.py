"""The confirmation letter PDF: composed by our composer in every language, valid (qpdf), rendered by a
real RIP (Ghostscript), and its QR decoded (zxing-cpp) to what the reception desk reads."""

from __future__ import annotations

import tomllib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from courrier.booking.confirmation import TEMPLATE, read_reception_payload, reception_payload
from courrier.db.schema import audit_log, persons
from courrier.errors import CodeError
from courrier.languages import LANGUAGES

from ..compose.conftest import PdfTools
from .conftest import bearer, citizen_token, first_slot


@pytest.fixture(scope="module")
def pdf_tools() -> PdfTools:
    return PdfTools()


def _title(language: str) -> str:
    return str(tomllib.loads((TEMPLATE / f"strings.{language}.toml").read_text())["title"])


def test_the_confirmation_in_every_language_is_valid_and_its_qr_gives_the_reference(
    client: TestClient, make_world, engine, pdf_tools: PdfTools, tmp_path
):
    world = make_world()
    token = citizen_token(client, world.codes[0][1])
    slot = first_slot(engine, world.campaign_id)
    booked = client.post("/api/v1/bookings", json={"slot": slot}, headers=bearer(token)).json()
    for language in LANGUAGES:
        answer = client.get(
            f"/api/v1/bookings/{booked['id']}/confirmation.pdf?lang={language}", headers=bearer(token)
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        assert booked["reference"] in answer.headers["content-disposition"]
        pdf = tmp_path / f"confirmation-{language}.pdf"
        pdf.write_bytes(answer.content)
        pdf_tools.check(pdf)
        scanned = pdf_tools.barcodes(pdf, 1)
        assert scanned == {"QRCode": reception_payload(booked["reference"])}, language
        assert read_reception_payload(scanned["QRCode"]) == booked["reference"]
        text = " ".join(pdf_tools.text(pdf).split())
        assert _title(language) in text, language
        assert booked["reference"] in text
        assert "Centre de vaccination Victor Hugo" in text
    # Without ?lang= the person's register language (the world's persons write in French).
    default = client.get(f"/api/v1/bookings/{booked['id']}/confirmation.pdf", headers=bearer(token))
    (tmp_path / "default.pdf").write_bytes(default.content)
    assert _title("fr") in " ".join(pdf_tools.text(tmp_path / "default.pdf").split())


def test_the_qr_holds_no_personal_data(client: TestClient, make_world, engine, pdf_tools: PdfTools, tmp_path):
    world = make_world()
    token = citizen_token(client, world.codes[0][1])
    booked = client.post(
        "/api/v1/bookings", json={"slot": first_slot(engine, world.campaign_id)}, headers=bearer(token)
    ).json()
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(
        client.get(f"/api/v1/bookings/{booked['id']}/confirmation.pdf", headers=bearer(token)).content
    )
    (payload,) = pdf_tools.barcodes(pdf, 1).values()
    with engine.connect() as connection:
        person = connection.execute(select(persons)).first()
    assert person is not None
    for private in (person.national_id, person.family_name, person.postcode, world.codes[0][1]):
        assert private not in payload
    assert payload == f"RDV1:{booked['reference']}"


def test_only_the_code_s_active_bookings_have_a_confirmation(client: TestClient, make_world, engine):
    world = make_world()
    mine, other = (citizen_token(client, code) for _, code in world.codes[:2])
    booked = client.post(
        "/api/v1/bookings", json={"slot": first_slot(engine, world.campaign_id)}, headers=bearer(mine)
    ).json()
    path = f"/api/v1/bookings/{booked['id']}/confirmation.pdf"
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer(other)).json()["error"]["code"] == "unknown_booking"
    client.delete(f"/api/v1/bookings/{booked['id']}", headers=bearer(mine))
    assert client.get(path, headers=bearer(mine)).json()["error"]["code"] == "booking_cancelled"


def test_the_helpline_prints_a_caller_s_confirmation_audited(
    client: TestClient, make_world, engine, staff_tokens
):
    world = make_world()
    caller, code = world.codes[0]
    token = citizen_token(client, code)
    booked = client.post(
        "/api/v1/bookings", json={"slot": first_slot(engine, world.campaign_id)}, headers=bearer(token)
    ).json()
    path = f"/api/v1/helpline/callers/{caller}/bookings/{booked['id']}/confirmation.pdf"
    printed = client.get(path, headers=bearer(staff_tokens["helpline"]))
    assert printed.status_code == 200, printed.text
    assert printed.content.startswith(b"%PDF-")
    assert client.get(path, headers=bearer(staff_tokens["reception"])).status_code == 403
    with engine.connect() as connection:
        actions = connection.execute(select(audit_log.c.action, audit_log.c.subject)).all()
    assert ("confirmation.printed", f"code:{caller}") in [tuple(row) for row in actions]


@pytest.mark.parametrize(
    "scanned", ["", "RDV1:", "RDV2:7KQ3MZ8P", "https://rdv.example.lu/c/7KQ3", "RDV1:ab/cd"]
)
def test_the_desk_refuses_what_is_not_a_confirmation(scanned):
    with pytest.raises(CodeError) as refused:
        read_reception_payload(scanned)
    assert refused.value.code == "bad_reception_qr"
