"""Issuing: our certificates verify with independent implementations and with our verifier; tampering
is refused at its step."""

from __future__ import annotations

import datetime as dt
import json
import stat
import zlib
from pathlib import Path
from typing import Any

import base45 as reference_base45
import cbor2
import jsonschema
import numpy as np
import pytest
import zxingcpp
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message
from tests.certificates.conftest import DCC_DATA, NOW, RECORD_FILE

from courrier import base45
from courrier.certificates.cose import sign1
from courrier.certificates.issue import issue_certificate, sign_payload
from courrier.certificates.payload import Vaccination, certificate_payload, read_facts
from courrier.certificates.pki import (
    Signer,
    folder_trust,
    init_pki,
    kid_of,
    load_signer,
    make_dsc,
    parse_trust,
    trust_list_json,
)
from courrier.certificates.qr import hc1_matrix
from courrier.certificates.revocation import read_revocations, revoke
from courrier.certificates.verify import STEPS, verify_hc1
from courrier.errors import CourrierError

# Data codewords of QR versions 1-30 at error correction level Q (ISO/IEC 18004, table 7).
Q_CODEWORDS = [13, 22, 34, 48, 62, 76, 88, 110, 132, 154, 180, 206, 244, 261, 295, 325, 367, 397, 445, 485,
               512, 568, 614, 664, 718, 754, 808, 871, 911, 985]  # fmt: skip


def _cose(hc1: str) -> bytes:
    """The COSE message of ``hc1``, decoded by code that is not ours (base45 package, zlib)."""
    assert hc1.startswith("HC1:")
    return zlib.decompress(reference_base45.b45decode(hc1[4:]))


def _encode(message: bytes) -> str:
    return "HC1:" + base45.encode(zlib.compress(message))


def _verify(hc1: str, signer: Signer, at: dt.datetime = NOW, revoked: frozenset[str] = frozenset()) -> Any:
    return verify_hc1(hc1, [signer.trusted()], at, revoked)


def test_a_certificate_verifies_with_pycose_and_the_official_schema(record: Vaccination, signer: Signer):
    issued = issue_certificate(record, signer, NOW)
    tagged = cbor2.loads(_cose(issued.hc1))
    assert tagged.tag == 18
    # pycose's own decode() expects the array as a list; cbor2 6 gives a tuple inside a tag.
    protected, unprotected, payload, signature = tagged.value
    message = Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)
    public = signer.certificate.public_key().public_numbers()  # type: ignore[union-attr]
    message.key = EC2Key(crv=P256, x=public.x.to_bytes(32, "big"), y=public.y.to_bytes(32, "big"))
    assert message.verify_signature()
    genuine = message.payload
    message.payload = genuine.replace(b"LUKASZ", b"MUKASZ")
    assert not message.verify_signature()  # pycose's check can fail: it is really checking
    message.payload = genuine
    raw = cbor2.loads(_cose(issued.hc1))
    assert raw.tag == 18
    protected = cbor2.loads(raw.value[0])
    assert protected == {1: -7, 4: kid_of(signer.certificate)}
    claims = cbor2.loads(message.payload)
    assert set(claims) == {1, 4, 6, -260}
    assert claims[1] == "LU"
    assert claims[6] == int(NOW.timestamp())
    assert claims[4] == int((NOW + dt.timedelta(days=365)).timestamp())
    payload = claims[-260][1]
    schema = json.loads((DCC_DATA / "schema/1.3.3/DCC.combined-schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(payload, schema, format_checker=jsonschema.FormatChecker())
    assert payload["nam"] == {
        "fn": "Ağaoğlu-Müller",
        "fnt": "AGAOGLU<MUELLER",
        "gn": "Łukasz",
        "gnt": "LUKASZ",
    }
    assert payload["v"][0]["ci"] == issued.uvci
    for name, field in [
        ("vaccine-medicinal-product", "mp"),
        ("vaccine-mah-manf", "ma"),
        ("vaccine-prophylaxis", "vp"),
    ]:
        values = json.loads((DCC_DATA / f"valuesets/{name}.json").read_text(encoding="utf-8"))[
            "valueSetValues"
        ]
        assert payload["v"][0][field] in values


def test_a_certificate_verifies_with_our_verifier(record: Vaccination, signer: Signer):
    issued = issue_certificate(record, signer, NOW)
    result = _verify(issued.hc1, signer)
    assert result.valid
    assert result.failed_step is None
    assert all(result.steps[step].ok for step in STEPS), result.steps
    assert result.payload == issued.payload
    assert set(result.to_json()) == {"valid", "failed_step", "steps", "payload"}


def test_the_qr_code_is_alphanumeric_at_level_q_and_reads_back(record: Vaccination, signer: Signer):
    issued = issue_certificate(record, signer, NOW)
    matrix = hc1_matrix(issued.hc1)
    picture = Image.fromarray((~np.pad(matrix, 4) * 255).astype(np.uint8)).resize(
        ((matrix.shape[0] + 8) * 6,) * 2, Image.Resampling.NEAREST
    )
    # Only QR codes: zxing-cpp can see a stray linear symbol in a QR's modules now and then.
    found, *others = [f for f in zxingcpp.read_barcodes(picture) if f.format == zxingcpp.BarcodeFormat.QRCode]
    assert {found.text, *(other.text for other in others)} == {issued.hc1}
    assert found.extra["ECLevel"] == "Q"
    version = int(found.extra["Version"])
    assert matrix.shape == (17 + 4 * version,) * 2
    # Alphanumeric mode fits this version and byte mode would not: the encoder used alphanumeric.
    count_bits = 9 if version < 10 else 11 if version < 27 else 13
    length = len(issued.hc1)
    alphanumeric = 4 + count_bits + 11 * (length // 2) + 6 * (length % 2)
    byte_mode = 4 + (8 if version < 10 else 16) + 8 * length
    assert alphanumeric <= 8 * Q_CODEWORDS[version - 1] < byte_mode
    assert version == 1 or alphanumeric > 8 * Q_CODEWORDS[version - 2]  # the smallest that fits


def test_a_changed_byte_is_refused_at_the_signature(record: Vaccination, signer: Signer):
    issued = issue_certificate(record, signer, NOW)
    tag = cbor2.loads(_cose(issued.hc1))
    protected, unprotected, payload, signature = tag.value
    changed = bytearray(payload)
    at = bytes(changed).index(b"LUKASZ")
    changed[at] = ord("M")
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, dict(unprotected), bytes(changed), signature]))
    result = _verify(_encode(forged), signer)
    assert result.failed_step == "signature"
    assert result.payload["nam"]["gnt"] == "MUKASZ"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_changed_character_is_refused(record: Vaccination, signer: Signer, data: st.DataObject):
    issued = _issued_once(record, signer)
    position = data.draw(st.integers(min_value=0, max_value=len(issued.hc1) - 1))
    other = data.draw(st.sampled_from([c for c in base45.ALPHABET if c != issued.hc1[position]]))
    changed = issued.hc1[:position] + other + issued.hc1[position + 1 :]
    result = _verify(changed, signer)
    assert not result.valid
    assert result.failed_step in STEPS


_ISSUED: dict[bytes, Any] = {}


def _issued_once(record: Vaccination, signer: Signer) -> Any:
    return _ISSUED.setdefault(signer.kid, issue_certificate(record, signer, NOW))


def test_a_wrong_kid_is_refused_at_kid(record: Vaccination, signer: Signer, tmp_path: Path):
    issued = issue_certificate(record, signer, NOW)
    init_pki(tmp_path / "other", "LU", NOW - dt.timedelta(days=1))
    other = load_signer(tmp_path / "other")
    result = verify_hc1(issued.hc1, [other.trusted()], NOW, frozenset())
    assert result.failed_step == "kid"
    assert result.steps["signature"].ok is None
    # The right kid in the header of a certificate signed with another key: refused at the signature.
    forged = sign1(cbor2.loads(_cose(issued.hc1)).value[2], other.key, signer.kid)
    assert _verify(_encode(forged), signer).failed_step == "signature"


def test_an_expired_dsc_is_refused_at_expired(record: Vaccination, signer: Signer, tmp_path: Path):
    csca_key = serialization.load_pem_private_key(
        (signer_folder(signer, tmp_path) / "csca.key").read_bytes(), None
    )
    csca = folder_csca(tmp_path)
    start = NOW - dt.timedelta(days=100)
    dsc = make_dsc(csca, csca_key, signer.key, "LU", start, start + dt.timedelta(days=30), ["v"])  # type: ignore[arg-type]
    old = Signer(signer.key, dsc, kid_of(dsc), "LU")
    # A CWT that itself runs for a year, signed while the DSC was valid.
    payload = certificate_payload(record, "URN:UVCI:01:LU:DCC/ABCDEFGHJKLMNPQRSTUV#L")
    claims = {
        1: "LU",
        6: int((start + dt.timedelta(days=1)).timestamp()),
        4: int((NOW + dt.timedelta(days=200)).timestamp()),
        -260: {1: payload},
    }
    hc1 = _encode(sign1(cbor2.dumps(claims), old.key, old.kid))
    result = _verify(hc1, old)
    assert result.failed_step == "expired"
    assert "DSC" in result.steps["expired"].detail
    # Issuing with it caps the CWT's expiry at the DSC's end.
    capped = sign_payload(payload, "x", old, start + dt.timedelta(days=1))
    assert capped.expires_at == dsc.not_valid_after_utc
    assert _verify(capped.hc1, old, at=start + dt.timedelta(days=2)).valid


def signer_folder(signer: Signer, tmp_path: Path) -> Path:
    return tmp_path / "dcc"


def folder_csca(tmp_path: Path) -> Any:
    from cryptography import x509

    return x509.load_pem_x509_certificate((tmp_path / "dcc" / "csca.crt").read_bytes())


def test_a_dsc_without_the_usage_is_refused(record: Vaccination, tmp_path: Path):
    init_pki(tmp_path / "tests-only", "LU", NOW - dt.timedelta(days=1), ["t", "r"])
    tests_only = load_signer(tmp_path / "tests-only")
    assert tests_only.kinds == {"t", "r"}
    with pytest.raises(CourrierError) as raised:
        issue_certificate(record, tests_only, NOW)
    assert raised.value.code == "dcc_signer_kind"
    # Signed all the same (past the issuing check), the verifier refuses it at key_usage.
    hc1 = sign_payload(certificate_payload(record, "URN:UVCI:01:LU:DCC/X#Q"), "x", tests_only, NOW).hc1
    result = _verify(hc1, tests_only)
    assert result.failed_step == "key_usage"


def test_a_revoked_uvci_is_refused_at_revoked(record: Vaccination, signer: Signer, dcc_folder: Path):
    issued = issue_certificate(record, signer, NOW)
    other = issue_certificate(record, signer, NOW)
    made = revoke(dcc_folder, issued.uvci.lower())
    assert made.uvci == issued.uvci
    revoked = read_revocations(dcc_folder / "revocations.json")
    assert _verify(issued.hc1, signer, revoked=revoked).failed_step == "revoked"
    assert _verify(other.hc1, signer, revoked=revoked).valid
    # The list names no one: hashes only.
    # (The random part after "DCC/": the check character after "#" may itself be "/" or ":".)
    assert issued.uvci.split("/", 1)[1][:10] not in (dcc_folder / "revocations.json").read_text()
    with pytest.raises(CourrierError) as raised:
        revoke(dcc_folder, issued.uvci)
    assert raised.value.code == "dcc_already_revoked"


def test_validity_in_time(record: Vaccination, signer: Signer):
    issued = issue_certificate(record, signer, NOW, validity_days=10)
    assert _verify(issued.hc1, signer, at=NOW - dt.timedelta(seconds=1)).failed_step == "not_yet_valid"
    assert _verify(issued.hc1, signer, at=NOW + dt.timedelta(days=10)).valid
    assert _verify(issued.hc1, signer, at=NOW + dt.timedelta(days=10, seconds=1)).failed_step == "expired"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"product": "EU/1/99/0000"}, "dcc_invalid_record"),
        ({"country": "XX"}, "dcc_invalid_record"),
        ({"dose": 0}, "dcc_invalid_record"),
        ({"birth_date": "12.08.1964"}, "dcc_invalid_record"),
        ({"family_name": "李"}, "dcc_bad_name"),
    ],
)
def test_a_record_the_schema_or_value_sets_refuse_is_not_issued(
    record: Vaccination, signer: Signer, change: dict[str, Any], code: str
):
    with pytest.raises(CourrierError) as raised:
        issue_certificate(read_facts({**RECORD_FILE, **change}), signer, NOW)
    assert raised.value.code == code


def test_the_test_pki_files(dcc_folder: Path, signer: Signer):
    for name in ("csca.key", "dsc.key"):
        assert stat.S_IMODE((dcc_folder / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(dcc_folder.stat().st_mode) == 0o700
    assert signer.kinds == {"v", "t", "r"}
    with pytest.raises(CourrierError) as raised:
        init_pki(dcc_folder, "LU", NOW)
    assert raised.value.code == "dcc_pki_exists"
    (dcc_folder / "dsc.key").chmod(0o644)
    with pytest.raises(CourrierError) as raised:
        load_signer(dcc_folder)
    assert raised.value.code == "key_file_shared"


def test_the_trust_list_and_certificates_as_trust(dcc_folder: Path, signer: Signer):
    listed = parse_trust(trust_list_json(folder_trust(dcc_folder)).encode(), "list")
    assert [(s.kid, s.country) for s in listed] == [(signer.kid, "LU")]
    pem = signer.certificate.public_bytes(serialization.Encoding.PEM)
    der = signer.certificate.public_bytes(serialization.Encoding.DER)
    import base64

    for data in (pem, der, base64.b64encode(der)):
        assert [s.kid for s in parse_trust(data, "x")] == [signer.kid]
    for bad in (b"", b"{}", b"not base64 !", b'{"format": "courrier-dcc-trust-list", "certificates": [{}]}'):
        with pytest.raises(CourrierError) as raised:
            parse_trust(bad, "bad")
        assert raised.value.code == "dcc_bad_trust"


CLAIM_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5), st.binary(max_size=5),
    st.datetimes(timezones=st.just(dt.UTC)),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.integers(-300, 10), st.integers(), max_size=2),
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from([1, 4, 6, -260, 99]), CLAIM_VALUES, max_size=5), st.booleans())
def test_any_signed_claims_are_answered_never_raised(signer: Signer, claims: dict, hcert: bool):
    """Whatever a signer put into the CWT (huge times, wrong types, no DCC), the verifier answers."""
    if hcert:
        claims[-260] = {1: {"ver": "1.3.3", "v": claims.get(99)}}
    result = _verify(_encode(sign1(cbor2.dumps(claims), signer.key, signer.kid)), signer)
    assert not result.valid
    assert result.failed_step in STEPS
    json.dumps(result.to_json(), allow_nan=False)  # printable as the CLI and the API print it
