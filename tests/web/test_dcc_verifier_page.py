"""The certificate verifier's page without JavaScript: paste a certificate's HC1: text, see valid with
only the name and birth date, or not valid and the check that failed; in every page language."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from courrier.certificates.issue import issue_certificate
from courrier.certificates.payload import Holder, Vaccination
from courrier.certificates.pki import init_pki, load_signer
from courrier.certificates.revocation import revoke
from courrier.languages import LANGUAGES
from courrier.web.pages import csrf

VACCINATION = Vaccination(
    Holder("Ağaoğlu-Müller", "Zoé", "1971-02-03"),
    product="EU/1/20/1528",
    manufacturer="ORG-100030215",
    prophylaxis="J07BX03",
    dose=2,
    series=2,
    date=dt.date(2021, 1, 5),
    country="LU",
    issuer="Ministère de la Santé",
)
WORDS = {  # the outcome's heading, per language
    "fr": ("Valide", "Non valide"),
    "de": ("Gültig", "Nicht gültig"),
    "en": ("Valid", "Not valid"),
    "pt": ("Válido", "Não válido"),
    "lb": ("Gëlteg", "Net gëlteg"),
}


@pytest.fixture
def verifier(make_client: Callable[..., TestClient], clock, tmp_path: Path):
    folder = tmp_path / "dcc"
    init_pki(folder, "LU", clock() - dt.timedelta(days=1))
    issued = issue_certificate(VACCINATION, load_signer(folder), clock() - dt.timedelta(minutes=5))
    return make_client(dcc_dir=str(folder)), issued, folder


def _verify(client: TestClient, text: str, language: str = "en") -> str:
    page = client.get(f"/verify?lang={language}")
    assert page.status_code == 200
    token = re.search(rf'name="{csrf.FIELD}" value="([^"]+)"', page.text).group(1)
    answer = client.post("/verify", data={csrf.FIELD: token, "hc1": text})
    return answer.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_valid_certificate_shows_only_the_name_and_birth_date(verifier, language: str):
    client, issued, _folder = verifier
    page = _verify(client, issued.hc1, language)
    assert 'id="verify-outcome" class="verify-outcome" data-valid="true"' in page
    assert f"<h2>{WORDS[language][0]}</h2>" in page
    assert re.search(r'id="verify-name">Zoé Ağaoğlu-Müller<', page)
    birth = re.search(r'id="verify-birth-date">([^<]+)<', page).group(1)
    assert "1971" in birth
    assert birth != "1971-02-03"  # written out in the page's language
    # Nothing else of the payload: no vaccine, dose, country, issuer, identifier, transliteration.
    result = page.split('id="verify-result"')[1].split("</div>")[0]
    for other in ("Comirnaty", "EU/1/20/1528", "2/2", "URN:UVCI", issued.uvci[-8:], "AGAOGLU", "Ministère"):
        assert other not in result


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_altered_or_revoked_certificate_is_not_valid_and_names_no_one(verifier, language: str):
    client, issued, folder = verifier
    altered = issued.hc1[:60] + ("A" if issued.hc1[60] != "A" else "B") + issued.hc1[61:]
    page = _verify(client, altered, language)
    assert 'data-valid="false"' in page
    assert f"<h2>{WORDS[language][1]}</h2>" in page
    assert "Zoé" not in page.split('id="verify-result"')[1]
    assert re.search(r'data-failed-step="(base45|zlib|cose|signature)"', page)
    revoke(folder, issued.uvci)
    page = _verify(client, issued.hc1, language)
    assert 'data-failed-step="revoked"' in page
    assert "Zoé" not in page.split('id="verify-result"')[1]


def test_the_form_needs_its_token_and_the_page_its_script(verifier):
    client, issued, _folder = verifier
    page = client.get("/verify?lang=fr")
    assert '<script src="/static/verifier/verifier.js" type="module"></script>' in page.text
    assert '"endpoint": "/api/v1/dcc/verify"' in page.text
    refused = client.post("/verify", data={"hc1": issued.hc1})
    assert refused.status_code == 403
    empty = _verify(client, "   ")
    assert 'data-failed-step="prefix"' in empty
    assert client.get("/static/verifier/verifier.js").status_code == 200


def test_the_page_names_the_certificate_check_not_the_booking(verifier):
    client, _issued, _folder = verifier
    page = client.get("/verify?lang=fr").text
    assert '<a class="brand" href="/verify">Vérification des certificats</a>' in page
    assert "Vérification des certificats</title>" in page
    assert "Rendez-vous de vaccination" not in page
    assert "8002 8080" not in page
