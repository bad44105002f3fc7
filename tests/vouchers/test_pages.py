"""The establishment's pages without JavaScript: scan (as a keyboard scanner types it) or type the
voucher, see the name, redeem, undo; its list holds its own redemptions only; the registration form."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from courrier.accounts.sessions import open_session
from courrier.accounts.users import get_user
from courrier.db.transaction import write_transaction
from courrier.web.pages import csrf

from ..web.conftest import NOW
from .conftest import CAMPSITE, ESTABLISHMENTS, HOTEL

LANGUAGES = ("fr", "de", "en", "pt", "lb")


@pytest.fixture
def sign_in(engine, establishment_staff, client):
    def signed_in(name: str) -> str:
        with write_transaction(engine) as connection:
            session = open_session(connection, get_user(connection, name), now=NOW)
        client.cookies.clear()
        client.cookies.set("courrier_staff", session.token)
        return session.csrf_token

    return signed_in


def _redeem_form(page: str, token: str, **stay) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="(code|scanned|nonce)" value="([^"]*)"', page))
    return {
        csrf.FIELD: token,
        **fields,
        "stay_from": "2021-01-20",
        "stay_to": "2021-01-22",
        "reference": "BK-9",
        **stay,
    }


def test_scan_see_the_name_redeem_and_undo(client, vouchers, sign_in, clock):
    token = sign_in("hotel1")
    page = client.get("/establishment?lang=en")
    assert page.status_code == 200
    config = json.loads(re.search(r'id="establishment-config">(.*?)</script>', page.text, re.S).group(1))
    assert config["establishment"] == HOTEL
    assert set(config["public_keys"]) == {str(k) for k in vouchers.keys.signing_keys}
    assert 'id="no-redemptions"' in page.text
    checked = client.post("/establishment/check?lang=en", data={csrf.FIELD: token, "code": vouchers.qr[0]})
    assert 'id="voucher-ready"' in checked.text
    assert "Genuine voucher: its signature is valid" in checked.text
    assert re.search(r'id="voucher-name" class="person-name">Test Synthetic\d+<', checked.text)
    form = _redeem_form(checked.text, token)
    done = client.post("/establishment/redemptions?lang=en", data=form)
    assert done.status_code == 201
    assert "Redeemed: deduct 50.00 EUR from the bill" in done.text
    listed = client.get("/establishment?lang=de").text
    assert "<td>50,00</td>" in listed  # the redemption's amount as a German clerk writes it
    redemption = re.search(r'data-redemption="(\d+)"', done.text).group(1)
    # A double click: the same nonce is the same redemption.
    assert client.post("/establishment/redemptions", data=form).status_code == 201
    assert len(re.findall(r'<tr id="redemption-', client.get("/establishment").text)) == 1
    clock.now = NOW + dt.timedelta(minutes=3)
    undone = client.post(
        f"/establishment/redemptions/{redemption}/undo?lang=en",
        data={csrf.FIELD: token},
        follow_redirects=False,
    )
    assert undone.status_code == 303
    listed = client.get(undone.headers["location"] + "&lang=en")
    assert f'id="redemption-{redemption}" data-state="undone"' in listed.text
    assert 'id="undone"' in listed.text


def test_typed_code_refused_elsewhere_in_every_language(client, vouchers, sign_in):
    from courrier.catalogue import CATALOGUE

    token = sign_in("hotel1")
    checked = client.post("/establishment/check", data={csrf.FIELD: token, "code": vouchers.codes[1][1]})
    assert (
        "Valid voucher"
        in client.post(
            "/establishment/check?lang=en", data={csrf.FIELD: token, "code": vouchers.codes[1][1]}
        ).text
    )
    assert (
        client.post("/establishment/redemptions", data=_redeem_form(checked.text, token)).status_code == 201
    )
    token = sign_in("camp1")
    for language in LANGUAGES:
        refused = client.post(
            f"/establishment/check?lang={language}", data={csrf.FIELD: token, "code": vouchers.qr[1]}
        )
        assert 'data-reason="already_redeemed"' in refused.text
        expected = CATALOGUE["already_redeemed"].template(language).format(date="2021-01-20", time="10:00")
        assert expected.replace("'", "&#39;") in refused.text
        # Never where, and never the other establishment's list.
        assert ESTABLISHMENTS[0]["name"] not in refused.text
        assert HOTEL not in refused.text
    assert 'id="no-redemptions"' in client.get("/establishment").text


def test_a_stay_that_ends_before_it_starts_is_shown_at_its_field(client, vouchers, sign_in):
    token = sign_in("hotel1")
    checked = client.post("/establishment/check?lang=en", data={csrf.FIELD: token, "code": vouchers.qr[2]})
    wrong = client.post(
        "/establishment/redemptions?lang=en", data=_redeem_form(checked.text, token, stay_to="2021-01-19")
    )
    assert wrong.status_code == 422
    assert 'id="stay_to-error"' in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    assert 'id="redeem-form"' in wrong.text  # the voucher is still shown, to correct and send again


def test_a_forged_qr_is_refused_as_forged(client, vouchers, sign_in):
    import base45

    token = sign_in("hotel1")
    raw = bytearray(base45.b45decode(vouchers.qr[0]))
    raw[30] ^= 0x04
    refused = client.post(
        "/establishment/check?lang=en",
        data={csrf.FIELD: token, "code": base45.b45encode(bytes(raw)).decode()},
    )
    assert 'data-reason="voucher_forged"' in refused.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_registration_form_refuses_at_the_field_then_registers(client, engine, language):
    page = client.get(f"/establishments/register?lang={language}")
    assert page.status_code == 200
    token = re.search(rf'name="{csrf.FIELD}" value="([^"]+)"', page.text).group(1)
    values = {k: v for k, v in ESTABLISHMENTS[1].items() if k != "id"}
    bad = client.post(
        f"/establishments/register?lang={language}", data={csrf.FIELD: token, **values, "iban": "LU00 1234"}
    )
    assert bad.status_code == 422
    assert 'id="iban-error"' in bad.text
    token = re.search(rf'name="{csrf.FIELD}" value="([^"]+)"', bad.text).group(1)
    # The statements' language is the page's unless chosen otherwise.
    assert re.search(rf'id="language-{language}" value="{language}" checked', bad.text)
    done = client.post(
        f"/establishments/register?lang={language}", data={csrf.FIELD: token, **values, "language": "de"}
    )
    assert done.status_code == 200
    assert 'id="register-received"' in done.text
    from courrier.vouchers.establishments import list_establishments

    with engine.connect() as connection:
        assert [(e.status, e.language) for e in list_establishments(connection, "pending")] == [
            ("pending", "de")
        ]


def test_the_staff_home_links_the_establishment_page(client, vouchers, sign_in):
    sign_in("hotel1")
    assert 'id="establishment-link"' in client.get("/staff?lang=en").text
    sign_in("camp1")
    assert CAMPSITE in client.get("/establishment").text


def test_the_registration_pages_name_the_voucher_service_not_the_booking(client):
    page = client.get("/establishments/register?lang=de").text
    assert re.search(r'<a class="brand" href="/establishments/register">Hotelgutscheine</a>', page)
    assert "<title>" in page
    assert "Hotelgutscheine</title>" in page
    assert "Impftermine" not in page
    assert "8002 8080" not in page


def test_an_establishment_downloads_its_own_statements_only(client, vouchers, sign_in, tmp_path):
    from courrier.vouchers.sepa import Payer
    from courrier.vouchers.statements import LOCAL, Period, issue_statements

    sign_in("hotel1")
    empty = client.get("/establishment/statements?lang=en")
    assert empty.status_code == 200
    assert 'id="no-statements"' in empty.text
    redeemed_at = dt.datetime(2021, 1, 12, 9, tzinfo=dt.UTC)
    vouchers.redeem(vouchers.qr[0], at=HOTEL, now=redeemed_at, reference="PARC-7")
    vouchers.redeem(vouchers.qr[1], at=CAMPSITE, now=dt.datetime(2021, 1, 13, 9, tzinfo=dt.UTC))
    summary = issue_statements(
        vouchers.engine,
        Period(dt.date(2021, 1, 1), dt.date(2021, 1, 15)),
        payer=Payer("Ministère de l'Économie", "LU280019400644750000", "BCEELULL"),
        folder=tmp_path / "statements",
        actor="t",
        now=dt.datetime(2021, 1, 16, 9, tzinfo=LOCAL),
    )
    numbers = {s.establishment_id: s.number for s in summary.statements}
    ours, theirs = numbers[HOTEL], numbers[CAMPSITE]
    # The amount as each language writes it: a decimal comma but in English.
    amounts = {"en": "50.00", "fr": "50,00", "de": "50,00", "pt": "50,00", "lb": "50,00"}
    for language in LANGUAGES:
        page = client.get(f"/establishment/statements?lang={language}")
        assert page.status_code == 200
        assert f'id="statement-{ours}"' in page.text
        assert f'<td class="number">{amounts[language]}</td>' in page.text
        assert theirs not in page.text
    pdf = client.get(f"/establishment/statements/{ours}.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert f'filename="{ours}.pdf"' in pdf.headers["content-disposition"]
    assert pdf.content == (summary.folder / f"{ours}.pdf").read_bytes()
    csv_file = client.get(f"/establishment/statements/{ours}.csv")
    assert csv_file.headers["content-type"].startswith("text/csv")
    assert "PARC-7" in csv_file.text
    # A file gone from the run's folder is made again from the rows: the same bytes.
    issued = pdf.content
    (summary.folder / f"{ours}.pdf").unlink()
    assert client.get(f"/establishment/statements/{ours}.pdf").content == issued
    # Another establishment's statement, a made-up one, another kind of file: not shown to exist.
    for name in (f"{theirs}.pdf", f"{theirs}.csv", "20210101-09999.pdf", f"{ours}.xml", ours):
        refused = client.get(f"/establishment/statements/{name}?lang=en")
        assert refused.status_code == 404, name
        assert 'data-code="unknown_statement"' in refused.text
    sign_in("camp1")
    assert theirs in client.get("/establishment/statements").text
    assert ours not in client.get("/establishment/statements").text
    assert client.get(f"/establishment/statements/{ours}.pdf").status_code == 404
    assert client.get(f"/establishment/statements/{theirs}.pdf").status_code == 200
    # Admin names the establishment; the other staff roles are refused.
    sign_in("boss")
    assert client.get(f"/establishment/statements/{ours}.pdf?establishment={HOTEL}").content == issued
    for name in ("op1", "min1"):
        sign_in(name)
        assert client.get(f"/establishment/statements/{ours}.pdf").status_code == 403
        assert client.get("/establishment/statements").status_code == 403
    sign_in("hotel1")
    assert 'id="statements-link"' in client.get("/staff?lang=en").text
    assert 'id="statements-link"' in client.get("/establishment?lang=en").text
