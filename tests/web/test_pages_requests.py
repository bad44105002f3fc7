"""The request page: the letter again or the waiting list, the same answer whoever asks, refusals tied to
their field."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from courrier.db.schema import letter_requests
from courrier.register.matricule import make_matricule

from .pages import form_token


def _post(client: TestClient, page: str, **fields: str):
    return client.post("/request", data={"csrf_token": form_token(page), **fields})


@pytest.mark.parametrize("lang", ["fr", "lb"])
def test_a_request_gets_the_same_answer_whether_or_not_the_person_exists(
    client: TestClient, make_world, engine, lang
):
    world = make_world(1)
    page = client.get(f"/request?kind=waiting_list&lang={lang}")
    assert page.status_code == 200
    assert 'id="kind-waiting_list" value="waiting_list" checked' in page.text
    fields = {"kind": "resend", "campaign": world.campaign, "birth_date": "1930-01-01", "postcode": "1234"}
    known = _post(client, page.text, matricule=make_matricule(dt.date(1930, 1, 1), 100), **fields)
    unknown = _post(client, page.text, matricule=make_matricule(dt.date(1931, 5, 6), 200), **fields)
    assert known.status_code == unknown.status_code == 200
    assert 'id="request-received"' in known.text
    assert known.text == unknown.text
    with engine.connect() as connection:
        assert len(connection.execute(select(letter_requests.c.id)).all()) == 2


def test_a_malformed_request_is_refused_at_its_field(client: TestClient, make_world):
    world = make_world(1)
    page = client.get("/request?lang=en")
    empty = _post(client, page.text, kind="resend", campaign=world.campaign)
    assert empty.status_code == 422
    for name in ("matricule", "birth_date", "postcode"):
        assert f'id="{name}-error"' in empty.text
    assert 'aria-describedby="matricule-hint matricule-error" aria-invalid="true"' in empty.text
    bad = _post(
        client,
        page.text,
        kind="resend",
        campaign=world.campaign,
        matricule="1930010100000",
        birth_date="1930-01-01",
        postcode="1234",
    )
    assert bad.status_code == 422
    assert 'id="matricule-error"' in bad.text
    assert "13 digits" in bad.text
    assert client.post("/request", data={"kind": "resend"}).status_code == 403


def test_the_request_page_names_campaigns_by_their_public_title(client: TestClient, make_world):
    world = make_world(
        1, campaign_extra='[title]\nfr = "Vaccination : 75 ans et plus"\nde = "Impfung: ab 75"\n'
    )
    french = client.get("/request?lang=fr").text
    assert "Vaccination : 75 ans et plus" in french
    assert f'value="{world.campaign}"' in french
    assert f">{world.campaign}<" not in french
    # A language the campaign has no title in falls back to its name.
    assert f">{world.campaign}<" in client.get("/request?lang=en").text
