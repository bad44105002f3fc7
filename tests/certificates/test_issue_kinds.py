"""Test and recovery certificates, issued from a file as vaccination ones are; and a stored record's
certificate, issued again the same."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.certificates.conftest import DCC_DATA, NOW, RECORD_FILE

from courrier.certificates.issue import issue_certificate
from courrier.certificates.payload import Recovery, TestResult, read_facts
from courrier.certificates.pki import Signer, init_pki, load_signer
from courrier.certificates.uvci import check_uvci
from courrier.certificates.verify import verify_hc1
from courrier.errors import CourrierError

HOLDER = {"family_name": "Ngô-D'Souza", "given_name": "Øystein", "birth_date": "1988-11-30"}
PCR = {
    **HOLDER,
    "kind": "test",
    "test_type": "LP6464-4",
    "test_name": "Roche LightCycler qPCR",
    "sampled_at": "2026-03-11T17:05:00+01:00",
    "result": "260415000",
    "centre": "Laboratoire national de santé",
    "country": "LU",
    "issuer": "Ministère de la Santé",
}
RAPID = {**PCR, "test_type": "LP217198-3", "device": "1232", "test_name": ""}
RECOVERY = {
    **HOLDER,
    "kind": "recovery",
    "first_positive": "2026-02-20",
    "valid_from": "2026-03-03",
    "valid_until": "2026-08-19",
    "country": "LU",
    "issuer": "Ministère de la Santé",
}


def _official_schema_errors(payload: dict[str, Any]) -> list[str]:
    schema = json.loads((DCC_DATA / "schema/1.3.3/DCC.combined-schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return [error.message for error in validator.iter_errors(payload)]


@pytest.mark.parametrize("document", [PCR, RAPID, RECOVERY], ids=["pcr", "rapid", "recovery"])
def test_test_and_recovery_certificates_verify(document: dict[str, Any], signer: Signer):
    issued = issue_certificate(read_facts(document), signer, NOW)
    kind = "t" if document["kind"] == "test" else "r"
    assert list(issued.payload) == ["ver", "nam", "dob", kind]
    assert _official_schema_errors(issued.payload) == []
    entry = issued.payload[kind][0]
    assert entry["ci"] == issued.uvci == check_uvci(issued.uvci)
    result = verify_hc1(issued.hc1, [signer.trusted()], NOW, frozenset())
    assert result.valid, result.to_json()
    assert result.payload == issued.payload
    if kind == "t":
        # The sample's time in UTC, as the specification writes it.
        assert entry["sc"] == "2026-03-11T16:05:00Z"
        assert ("ma" in entry) == (document is RAPID)
        assert ("nm" in entry) == (document is PCR)


def test_a_recovery_certificate_ends_with_its_validity(signer: Signer):
    issued = issue_certificate(read_facts(RECOVERY), signer, NOW)
    assert issued.expires_at == dt.datetime(2026, 8, 19, 23, 59, 59, tzinfo=dt.UTC)
    after = dt.datetime(2026, 8, 20, tzinfo=dt.UTC)
    assert verify_hc1(issued.hc1, [signer.trusted()], after, frozenset()).failed_step == "expired"


def test_each_kind_needs_its_key_usage(tmp_path: Path):
    init_pki(tmp_path / "tests-only", "LU", NOW - dt.timedelta(days=1), ["t"])
    tests_only = load_signer(tmp_path / "tests-only")
    assert issue_certificate(read_facts(PCR), tests_only, NOW).payload["t"]
    for document in (RECORD_FILE, RECOVERY):
        with pytest.raises(CourrierError) as raised:
            issue_certificate(read_facts(document), tests_only, NOW)
        assert raised.value.code == "dcc_signer_kind"


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "passport"},
        {"sampled_at": "2026-03-11T17:05:00"},  # no offset: which hour?
        {"result": "positive"},  # not a code of the value set
        {"test_type": None},
        {"device": "99999"},
    ],
)
def test_a_test_file_the_schema_or_value_sets_refuse_is_not_issued(signer: Signer, change: dict[str, Any]):
    document = {key: value for key, value in {**RAPID, **change}.items() if value is not None}
    with pytest.raises(CourrierError) as raised:
        issue_certificate(read_facts(document), signer, NOW)
    assert raised.value.code == "dcc_invalid_record"


def test_a_recovery_file_with_a_bad_date_is_refused(signer: Signer):
    with pytest.raises(CourrierError) as raised:
        read_facts({**RECOVERY, "valid_until": "19.08.2026"})
    assert raised.value.code == "dcc_invalid_record"
    assert isinstance(read_facts(RECOVERY), Recovery)
    assert isinstance(read_facts(PCR), TestResult)


def test_a_stored_record_gets_the_same_certificate_each_time(record, signer: Signer, dcc_folder: Path):
    first = issue_certificate(record, signer, NOW, subject="vaccination:7")
    again = issue_certificate(record, load_signer(dcc_folder), NOW, subject="vaccination:7")
    assert again.hc1 == first.hc1
    assert again.uvci == first.uvci == check_uvci(first.uvci)
    other = issue_certificate(record, signer, NOW, subject="vaccination:8")
    assert other.uvci != first.uvci
    # Without a subject each certificate is new.
    assert issue_certificate(record, signer, NOW).uvci != issue_certificate(record, signer, NOW).uvci
    # Another signer (another country's key) derives other identifiers.
    init_pki(dcc_folder.parent / "other", "LU", NOW - dt.timedelta(days=1))
    stranger = issue_certificate(
        record, load_signer(dcc_folder.parent / "other"), NOW, subject="vaccination:7"
    )
    assert stranger.uvci != first.uvci
