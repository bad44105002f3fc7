"""``courrier dcc``: init, trust-list, issue, verify (string, PNG, PDF page), revoke."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from tests.certificates.conftest import DCC_DATA

from courrier.cli import courrier

RECORD = {
    "family_name": "Ngô-D'Souza",
    "given_name": "Zoé",
    "birth_date": "1958-11-11",
    "product": "EU/1/21/1529",
    "manufacturer": "ORG-100001699",
    "prophylaxis": "J07BX03",
    "dose": 1,
    "series": 2,
    "date": "2026-03-01",
    "country": "LU",
    "issuer": "Ministère de la Santé",
}


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COURRIER_DCC_DIR", str(tmp_path / "dcc"))
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str, code: int = 0, stdin: str | None = None) -> str:
        result = CliRunner().invoke(courrier, list(args), input=stdin)
        assert result.exit_code == code, (result.output, result.exception)
        return result.stdout

    return invoke


@pytest.fixture
def issued(run, tmp_path: Path) -> dict:
    run("dcc", "init")
    (tmp_path / "record.json").write_text(json.dumps(RECORD), encoding="utf-8")
    return json.loads(run("dcc", "issue", "record.json", "--qr", "code.png", "--json"))


def test_init_makes_private_keys_and_refuses_to_run_twice(run, tmp_path: Path):
    made = json.loads(run("dcc", "init", "--json"))
    assert made["country"] == "LU"
    assert made["kinds"] == ["r", "t", "v"]
    assert stat.S_IMODE((tmp_path / "dcc" / "dsc.key").stat().st_mode) == 0o600
    failure = run("dcc", "init", "--json", code=1)
    assert json.loads(failure)["error"]["code"] == "dcc_pki_exists"


def test_trust_list(run, tmp_path: Path):
    made = json.loads(run("dcc", "init", "--json"))
    listed = json.loads(run("dcc", "trust-list"))
    assert listed["format"] == "courrier-dcc-trust-list"
    assert [(c["kid"], c["country"]) for c in listed["certificates"]] == [(made["kid"], "LU")]
    run("dcc", "trust-list", "-o", "trust.json")
    assert json.loads((tmp_path / "trust.json").read_text()) == listed


def test_issue_and_verify_a_string_the_picture_and_a_pdf_page(run, issued: dict, tmp_path: Path):
    assert issued["payload"]["nam"]["fnt"] == "NGO<DSOUZA"
    assert issued["payload"]["nam"]["gnt"] == "ZOE"
    answer = json.loads(run("dcc", "verify", issued["hc1"], "--json"))
    assert set(answer) == {"valid", "failed_step", "steps", "payload"}
    assert answer["valid"] is True
    assert answer["failed_step"] is None
    assert list(answer["steps"]) == [
        "prefix", "base45", "zlib", "cose", "kid", "signature", "key_usage", "schema", "value_sets",
        "not_yet_valid", "expired", "revoked",
    ]  # fmt: skip
    assert answer["steps"]["revoked"] == {"ok": None, "detail": "no revocation list"}
    assert answer["payload"] == issued["payload"]
    assert json.loads(run("dcc", "verify", "code.png", "--json"))["valid"] is True
    with Image.open(tmp_path / "code.png") as picture:
        blank = Image.new("RGB", picture.size, "white")
        blank.save(tmp_path / "two.pdf", save_all=True, append_images=[picture.convert("RGB")])
    assert json.loads(run("dcc", "verify", "two.pdf", "--page", "2", "--json"))["valid"] is True
    failure = json.loads(run("dcc", "verify", "two.pdf", "--json", code=1))
    assert failure["error"]["code"] == "dcc_no_qr"
    assert json.loads(run("dcc", "verify", "-", "--json", stdin=issued["hc1"] + "\n"))["valid"] is True
    text = run("dcc", "verify", issued["hc1"])
    assert "valid: Zoé Ngô-D'Souza, born 1958-11-11" in text


def test_verify_names_the_failing_step_and_exits_1(run, issued: dict):
    early = json.loads(run("dcc", "verify", issued["hc1"], "--at", "2020-01-01T00:00:00Z", "--json", code=1))
    assert early["valid"] is False
    assert early["failed_step"] == "not_yet_valid"
    assert (
        json.loads(run("dcc", "verify", "HC2:" + issued["hc1"][4:], "--json", code=1))["failed_step"]
        == "prefix"
    )
    text = run("dcc", "verify", issued["hc1"][:-3] + "===", code=1)
    assert "invalid: base45" in text
    run("dcc", "verify", issued["hc1"], "--at", "yesterday", code=2)


def test_revoke_then_verify(run, issued: dict):
    revoked = json.loads(run("dcc", "revoke", issued["uvci"], "--json"))
    assert revoked["revocations"] == 1
    answer = json.loads(run("dcc", "verify", issued["hc1"], "--json", code=1))
    assert answer["failed_step"] == "revoked"
    assert (
        json.loads(run("dcc", "revoke", issued["uvci"], "--json", code=1))["error"]["code"]
        == "dcc_already_revoked"
    )
    assert (
        json.loads(run("dcc", "revoke", "URN:UVCI:01:LU:NOPE#A", "--json", code=1))["error"]["code"]
        == "dcc_bad_uvci"
    )


def test_verify_an_official_vector_with_its_certificate_as_trust(run, tmp_path: Path):
    vector = json.loads((DCC_DATA / "common/2DCode/raw/CO3.json").read_text(encoding="utf-8"))
    (tmp_path / "dsc.b64").write_text(vector["TESTCTX"]["CERTIFICATE"], encoding="ascii")
    answer = json.loads(
        run(
            "dcc",
            "verify",
            vector["PREFIX"],
            "--trust",
            "dsc.b64",
            "--at",
            vector["TESTCTX"]["VALIDATIONCLOCK"],
            "--json",
        )
    )
    assert answer["valid"] is True
    # Without it, our own (empty) folder trusts no one.
    assert json.loads(run("dcc", "verify", vector["PREFIX"], "--json", code=1))["failed_step"] == "kid"


def test_issue_refuses_a_bad_record(run, tmp_path: Path):
    run("dcc", "init")
    (tmp_path / "bad.json").write_text(json.dumps({**RECORD, "manufacturer": "ORG-0"}), encoding="utf-8")
    assert (
        json.loads(run("dcc", "issue", "bad.json", "--json", code=1))["error"]["code"] == "dcc_invalid_record"
    )
    (tmp_path / "worse.json").write_text("[1, 2]", encoding="utf-8")
    assert (
        json.loads(run("dcc", "issue", "worse.json", "--json", code=1))["error"]["code"]
        == "dcc_invalid_record"
    )


def test_issue_without_a_pki_says_what_to_do(run, tmp_path: Path):
    (tmp_path / "record.json").write_text(json.dumps(RECORD), encoding="utf-8")
    assert (
        json.loads(run("dcc", "issue", "record.json", "--json", code=1))["error"]["code"] == "dcc_no_signer"
    )
