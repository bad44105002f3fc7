"""Fixtures of the certificate tests: the official test data, a test PKI, a vaccination record."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from courrier.certificates.payload import Vaccination, read_facts
from courrier.certificates.pki import Signer, init_pki, load_signer

ROOT = Path(__file__).resolve().parents[2]
# The official EU DCC test vectors, schemas and value sets (Apache-2.0): ../shared beside the
# repository's root, in CI as here. Not copied into the repository.
DCC_DATA = ROOT.parent / "shared" / "testdata" / "dcc"
NOW = dt.datetime(2026, 3, 12, 8, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def dcc_data() -> Path:
    if not DCC_DATA.is_dir():
        pytest.fail(f"the DCC test data is missing: {DCC_DATA}")
    return DCC_DATA


@pytest.fixture
def dcc_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dcc"
    init_pki(folder, "LU", NOW - dt.timedelta(days=30))
    return folder


@pytest.fixture
def signer(dcc_folder: Path) -> Signer:
    return load_signer(dcc_folder)


# A vaccination as `courrier dcc issue` reads it from a file.
RECORD_FILE = {
    "family_name": "Ağaoğlu-Müller",
    "given_name": "Łukasz",
    "birth_date": "1964-08-12",
    "product": "EU/1/20/1528",
    "manufacturer": "ORG-100030215",
    "prophylaxis": "J07BX03",
    "dose": 2,
    "series": 2,
    "date": "2026-03-10",
    "country": "LU",
    "issuer": "Ministère de la Santé",
}


@pytest.fixture
def record() -> Vaccination:
    facts = read_facts(RECORD_FILE)
    assert isinstance(facts, Vaccination)
    return facts
