"""Staff password hashes: argon2id, at the memory cost COURRIER_ARGON2_MEMORY_KIB sets (the suite sets 1024
KiB in tests/conftest.py), a hash of one cost verifying under another."""

from __future__ import annotations

import os

import pytest

from courrier.accounts import passwords
from courrier.errors import ConfigError


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def set_to(value: str | None) -> None:
        if value is None:
            monkeypatch.delenv(passwords.MEMORY_ENV, raising=False)
        else:
            monkeypatch.setenv(passwords.MEMORY_ENV, value)
        passwords._hasher.cache_clear()
        passwords._dummy_hash.cache_clear()

    yield set_to
    passwords._hasher.cache_clear()
    passwords._dummy_hash.cache_clear()


def test_the_suite_hashes_with_the_memory_cost_set_and_verifies():
    made = passwords.hash_password("correct horse battery")
    assert made.startswith(f"$argon2id$v=19$m={os.environ[passwords.MEMORY_ENV]},t=3,p=4$")
    assert passwords.verify_password("correct horse battery", made)
    assert not passwords.verify_password("correct horse batterY", made)
    assert not passwords.verify_password("correct horse battery", None)


def test_without_the_setting_pwdlibs_cost_and_hashes_of_either_cost_verify(memory):
    cheap = passwords.hash_password("correct horse battery")
    memory(None)
    full = passwords.hash_password("correct horse battery")
    assert full.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify_password("correct horse battery", cheap)
    memory("1024")
    assert passwords.verify_password("correct horse battery", full)
    assert not passwords.verify_password("wrong horse battery", full)


@pytest.mark.parametrize("value", ["31", "0", "-1", "1k", "１０２４", " 1024"])
def test_a_bad_memory_cost_is_a_config_error(memory, value: str):
    memory(value)
    with pytest.raises(ConfigError) as raised:
        passwords.hash_password("correct horse battery")
    assert raised.value.code == "config_error"
    assert passwords.MEMORY_ENV in str(raised.value)
