"""``POST /api/v1/dcc/verify``: the CLI's answer, over HTTP, against the server's DCC folder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from courrier.certificates.issue import issue_certificate
from courrier.certificates.payload import Holder, Vaccination
from courrier.certificates.pki import init_pki, load_signer
from courrier.certificates.revocation import revoke
from courrier.certificates.verify import STEPS

RECORD = Vaccination(
    Holder("Фёдорова", "Zoé", "1971-02-03"),
    product="EU/1/20/1528",
    manufacturer="ORG-100030215",
    prophylaxis="J07BX03",
    dose=1,
    series=2,
    date=dt.date(2026, 1, 5),
    country="LU",
    issuer="Ministère de la Santé",
)


def test_verify_a_certificate_over_the_api(
    make_client: Callable[..., TestClient], clock: Callable[[], dt.datetime], tmp_path: Path
):
    folder = tmp_path / "dcc"
    now = clock()
    init_pki(folder, "LU", now - dt.timedelta(days=1))
    issued = issue_certificate(RECORD, load_signer(folder), now - dt.timedelta(minutes=5))
    client = make_client(dcc_dir=str(folder))
    answer = client.post("/api/v1/dcc/verify", json={"hc1": issued.hc1})
    assert answer.status_code == 200
    body = answer.json()
    assert body["valid"] is True
    assert body["failed_step"] is None
    assert list(body["steps"]) == list(STEPS)
    assert body["payload"]["nam"]["fnt"] == "FEDOROVA"
    revoke(folder, issued.uvci)
    assert client.post("/api/v1/dcc/verify", json={"hc1": issued.hc1}).json()["failed_step"] == "revoked"
    assert client.post("/api/v1/dcc/verify", json={"hc1": "HC2:X"}).json()["failed_step"] == "prefix"
    # A server with no DCC folder trusts no one.
    stranger = make_client(dcc_dir=str(tmp_path / "none"))
    assert stranger.post("/api/v1/dcc/verify", json={"hc1": issued.hc1}).json()["failed_step"] == "kid"
    assert client.post("/api/v1/dcc/verify", json={"hc1": "HC1:" + "A" * 5000}).status_code == 422
