from __future__ import annotations

import datetime as dt
import random
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from courrier.cli import courrier
from courrier.codes.format import random_codes
from courrier.codes.keys import Keys, add_signing_key, create_key_file, dump_keys, load_keys, new_keys
from courrier.codes.sealing import code_hmac, reveal_code, seal_codes
from courrier.codes.token import TOKEN_BYTES, sign_token, verify_own_token, verify_token
from courrier.errors import CodeError, ConfigError, ConflictError

KEYS = new_keys()
TODAY = dt.date(2021, 7, 1)
days = st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2149, 6, 6))
ids = st.integers(0, 2**32 - 1)


def _token(**changes: object) -> str:
    claims = {
        "campaign_id": 3,
        "code_id": 42,
        "valid_from": dt.date(2021, 6, 1),
        "valid_until": dt.date(2021, 12, 31),
    } | changes
    return sign_token(KEYS, **claims)  # type: ignore[arg-type]


def test_key_file_is_private_and_never_overwritten(tmp_path: Path):
    path = tmp_path / "courrier.keys"
    created = create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keys(str(path)).hmac_key == created.hmac_key
    with pytest.raises(ConflictError) as caught:
        create_key_file(path)
    assert caught.value.code == "key_file_exists"
    assert load_keys(str(path)).hmac_key == created.hmac_key


def test_missing_or_malformed_key_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError) as missing:
        load_keys(str(tmp_path / "nowhere.keys"))
    assert missing.value.code == "key_file_missing"
    (tmp_path / "bad.keys").write_text('{"format": "courrier-keys", "hmac_key": "%%%"}')
    (tmp_path / "bad.keys").chmod(0o600)
    with pytest.raises(ConfigError) as malformed:
        load_keys(str(tmp_path / "bad.keys"))
    assert malformed.value.code == "bad_key_file"


def test_environment_keys_take_precedence_over_the_file(tmp_path: Path):
    create_key_file(tmp_path / "file.keys")
    assert load_keys(str(tmp_path / "file.keys"), dump_keys(KEYS)).hmac_key == KEYS.hmac_key


@settings(max_examples=50)
@given(st.randoms(use_true_random=False), st.integers(1, 5))
def test_sealed_codes_reveal_and_look_up(rng: random.Random, count: int):
    codes = random_codes(count, lambda n: rng.getrandbits(8 * n).to_bytes(n, "big"))
    hmacs, ciphertexts = seal_codes(KEYS, codes)
    for code, digest, ciphertext in zip(codes, hmacs, ciphertexts, strict=True):
        assert reveal_code(KEYS, ciphertext) == code
        assert code_hmac(KEYS, code) == digest
        assert code.encode() not in ciphertext


def test_hmac_depends_on_the_key():
    code = random_codes(1)[0]
    assert code_hmac(KEYS, code) != code_hmac(new_keys(), code)


def test_a_ciphertext_from_another_key_does_not_reveal():
    _, (ciphertext,) = seal_codes(KEYS, random_codes(1))
    with pytest.raises(CodeError) as caught:
        reveal_code(new_keys(), ciphertext)
    assert caught.value.code == "bad_ciphertext"


@given(ids, ids, days, days)
def test_sign_verify_round_trip(campaign_id: int, code_id: int, first: dt.date, second: dt.date):
    valid_from, valid_until = min(first, second), max(first, second)
    token = sign_token(
        KEYS, campaign_id=campaign_id, code_id=code_id, valid_from=valid_from, valid_until=valid_until
    )
    assert len(token) <= 119
    assert set(token) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    claims = verify_token(token, {1: KEYS.public_key(1)}, valid_from)
    assert (claims.campaign_id, claims.code_id, claims.valid_from, claims.valid_until) == (
        campaign_id,
        code_id,
        valid_from,
        valid_until,
    )


@given(st.integers(0, TOKEN_BYTES - 1), st.integers(1, 255))
def test_any_altered_byte_is_refused(position: int, flip: int):
    import base45

    raw = bytearray(base45.b45decode(_token()))
    raw[position] ^= flip
    with pytest.raises(CodeError) as caught:
        verify_token(base45.b45encode(bytes(raw)).decode(), {1: KEYS.public_key(1)}, TODAY)
    assert caught.value.code in {"bad_signature", "unsupported_version", "unknown_key"}


@given(st.integers(0, TOKEN_BYTES - 1), st.integers(1, 255))
def test_the_signers_own_check_answers_an_altered_byte_as_verify_token_does(position: int, flip: int):
    import base45

    raw = bytearray(base45.b45decode(_token()))
    raw[position] ^= flip
    altered = base45.b45encode(bytes(raw)).decode()
    answers = []
    for verify in (
        lambda: verify_token(altered, KEYS.verifying_keys, TODAY),
        lambda: verify_own_token(altered, KEYS, TODAY),
    ):
        with pytest.raises(CodeError) as caught:
            verify()
        answers.append((caught.value.code, str(caught.value)))
    assert answers[0] == answers[1]


class _NotDeterministic:
    """A signing key whose signatures differ from the deterministic one (another valid signer)."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    def sign(self, data: bytes) -> bytes:
        return bytes(64)

    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()


def test_the_signers_own_check_verifies_a_signature_it_would_not_have_made():
    keys = Keys(KEYS.hmac_key, KEYS.encryption_keys, {1: _NotDeterministic(KEYS.signing_keys[1])})  # type: ignore[dict-item]
    token = _token(code_id=7)  # a valid signature, not the one keys' signer makes
    assert verify_own_token(token, keys, TODAY) == verify_token(token, KEYS.verifying_keys, TODAY)
    assert verify_own_token(token, KEYS, TODAY).code_id == 7
    for changes, expected in (
        ({"valid_until": dt.date(2021, 6, 30)}, "token_expired"),
        ({"valid_from": dt.date(2021, 7, 2)}, "token_not_yet_valid"),
    ):
        with pytest.raises(CodeError) as caught:
            verify_own_token(_token(**changes), KEYS, TODAY)
        assert caught.value.code == expected
    with pytest.raises(CodeError) as caught:
        verify_own_token(_token(), new_keys(), TODAY)
    assert caught.value.code == "bad_signature"


def test_expired_early_forged_and_garbled_tokens_are_refused():
    public = {1: KEYS.public_key(1)}
    cases = {
        "token_expired": (_token(valid_until=dt.date(2021, 6, 30)), public),
        "token_not_yet_valid": (_token(valid_from=dt.date(2021, 7, 2)), public),
        "bad_signature": (_token(), {1: new_keys().public_key(1)}),
        "unknown_key": (_token(), {2: KEYS.public_key(1)}),
        "bad_token": ("NOT A TOKEN", public),
    }
    for expected, (token, keys) in cases.items():
        with pytest.raises(CodeError) as caught:
            verify_token(token, keys, TODAY)
        assert caught.value.code == expected


def test_rotation_signs_with_the_new_key_and_old_tokens_still_verify(tmp_path: Path):
    path = tmp_path / "courrier.keys"
    create_key_file(path)
    old = load_keys(str(path))
    old_token = sign_token(old, campaign_id=1, code_id=1, valid_from=TODAY, valid_until=TODAY)
    assert add_signing_key(path) == 2
    rotated = load_keys(str(path))
    new_token = sign_token(rotated, campaign_id=1, code_id=2, valid_from=TODAY, valid_until=TODAY)
    public = {key_id: rotated.public_key(key_id) for key_id in (1, 2)}
    assert verify_token(old_token, public, TODAY).key_id == 1
    assert verify_token(new_token, public, TODAY).key_id == 2
    assert rotated.hmac_key == old.hmac_key


def test_verifying_keys_are_derived_once_and_follow_a_rotation(tmp_path: Path):
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    def raw(public: object) -> dict[int, bytes]:
        return {k: v.public_bytes(Encoding.Raw, PublicFormat.Raw) for k, v in public.items()}  # type: ignore[attr-defined]

    path = tmp_path / "courrier.keys"
    create_key_file(path)
    old = load_keys(str(path))
    assert old.verifying_keys is old.verifying_keys
    assert raw(old.verifying_keys) == raw({1: old.public_key(1)})
    add_signing_key(path)
    rotated = load_keys(str(path))
    assert raw(rotated.verifying_keys) == raw({key_id: rotated.public_key(key_id) for key_id in (1, 2)})
    token = sign_token(rotated, campaign_id=1, code_id=2, valid_from=TODAY, valid_until=TODAY)
    assert verify_token(token, rotated.verifying_keys, TODAY).key_id == 2
    with pytest.raises(CodeError) as caught:
        verify_token(token, old.verifying_keys, TODAY)  # the keys loaded before the rotation
    assert caught.value.code == "unknown_key"


def test_keys_commands_and_offline_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURRIER_KEY_FILE", str(tmp_path / "k.keys"))
    monkeypatch.delenv("COURRIER_KEYS", raising=False)
    runner = CliRunner()
    assert runner.invoke(courrier, ["keys", "create"]).exit_code == 0
    again = runner.invoke(courrier, ["keys", "create"])
    assert again.exit_code == 1
    assert "key_file_exists" in again.output
    assert runner.invoke(courrier, ["keys", "rotate"]).exit_code == 0
    exported = runner.invoke(courrier, ["keys", "export-public", "--key-id", "2", "-o", "pub2.json"])
    assert exported.exit_code == 0, exported.output
    keys = load_keys(str(tmp_path / "k.keys"))
    token = sign_token(keys, campaign_id=7, code_id=9, valid_from=TODAY, valid_until=TODAY)
    good = runner.invoke(
        courrier,
        [
            "codes",
            "verify",
            token,
            "--public-key",
            "pub2.json",
            "--campaign",
            "7",
            "--today",
            "2021-07-01",
            "--json",
        ],
    )
    assert good.exit_code == 0, good.output
    assert '"code_id": 9' in good.output
    late = runner.invoke(
        courrier,
        ["codes", "verify", token, "--public-key", "pub2.json", "--campaign", "7", "--today", "2021-07-02"],
    )
    assert late.exit_code == 1
    assert "token_expired" in late.output
