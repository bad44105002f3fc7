"""Password hashes: argon2id through pwdlib, with its recommended parameters.

``COURRIER_ARGON2_MEMORY_KIB`` lowers the memory cost of new hashes (for a machine short of memory, and
for the test suite, which hashes a few hundred passwords); each hash records its own parameters, so a
hash made with one cost still verifies under another.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from courrier.errors import ConfigError

MIN_PASSWORD_LENGTH = 12
MEMORY_ENV = "COURRIER_ARGON2_MEMORY_KIB"
_PARALLELISM = 4  # pwdlib's; argon2 needs at least 8 KiB per lane


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    given = os.environ.get(MEMORY_ENV, "")
    if not given:
        return PasswordHash((Argon2Hasher(),))
    if not given.isascii() or not given.isdigit() or int(given) < 8 * _PARALLELISM:
        least = 8 * _PARALLELISM
        raise ConfigError(f"{MEMORY_ENV} must be a whole number of KiB, {least} or more, not {given!r}")
    return PasswordHash((Argon2Hasher(memory_cost=int(given), parallelism=_PARALLELISM),))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher().hash("not the password of anyone")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches; an unknown user (``None``) costs the same time as a known one."""
    if password_hash is None:
        _hasher().verify(password, _dummy_hash())
        return False
    return bool(_hasher().verify(password, password_hash))
